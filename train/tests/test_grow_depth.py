import json

import pytest
import torch

from conftest import TINY
import train as trainer
import grow_depth
from stages import stage_dirs
from stage_table import stage_rows
from weights_file import load_checkpoint, load_model

SPARSE = ["--l0", "0.25", "--min-per-neuron", "1", "--anneal-start", "0", "--anneal-end", "0"]


def run(out, data, *extra):
    return trainer.train(trainer.parse_args(["--out", str(out), "--data", str(data), *TINY, *SPARSE, *extra]))


@pytest.fixture
def trained(tiny_data, tmp_path):
    run(tmp_path / "first", tiny_data, "--total-tokens", str(10 * 64))
    return tmp_path / "first"


@pytest.mark.filterwarnings("ignore:Validating sparse tensor invariants")
def test_the_grown_model_computes_what_the_trained_one_does(trained, tmp_path):
    grown_dir = tmp_path / "grown"
    grow_depth.main(["--ckpt", str(trained / "ckpt.pt"), "--add", "2", "--out", str(grown_dir)])
    small, small_ck = load_model(str(trained / "ckpt.pt"))
    big, big_ck = load_model(str(grown_dir / "ckpt.pt"))
    assert big.cfg.n_layer == small.cfg.n_layer + 2
    assert big_ck["tokens"] == small_ck["tokens"] == 10 * 64
    x = torch.randint(0, 64, (3, 16))
    assert torch.equal(big(x), small(x))
    state = big.state_dict()
    for name, value in small.state_dict().items():
        assert torch.equal(state[name], value), name
    for layer in (1, 2):
        for write in grow_depth.WRITES:
            assert not state[f"transformer.h.{layer}.{write}"].any()
        # the new reads are random and sparse at the trained run's --l0: exactly a quarter of each matrix kept
        for read in ("attn.c_attn.weight", "mlp.c_fc.weight"):
            w = state[f"transformer.h.{layer}.{read}"]
            assert int(w.count_nonzero()) == int(0.25 * w.numel())


@pytest.mark.filterwarnings("ignore:Validating sparse tensor invariants")
def test_a_stage_from_the_grown_model_trains_its_new_layers_and_keeps_the_chain(trained, tiny_data, tmp_path):
    grown_dir = tmp_path / "grown"
    grow_depth.main(["--ckpt", str(trained / "ckpt.pt"), "--add", "1", "--out", str(grown_dir)])
    later = tmp_path / "later"
    run(later, tiny_data, "--n-layer", "2", "--total-tokens", str(5 * 64),
        "--init-from", str(grown_dir / "ckpt.pt"))
    after = load_checkpoint(str(later / "ckpt.pt"))
    assert after["init_tokens"] == 10 * 64
    # the new block's writes left zero, which they would stay without gradient through them
    assert after["model"]["transformer.h.1.mlp.c_proj.weight"].any()
    assert after["model"]["transformer.h.1.attn.c_proj.weight"].any()
    record = json.loads((later / "train_args.json").read_text())
    assert ["grow_depth.py" in c for c in record["commands"]] == [False, True, False]
    assert [str(d) for d in stage_dirs(str(later))] == [str(trained), str(grown_dir), str(later)]
    rows = stage_rows(str(later))
    assert [r["focus"] for r in rows][1] == "grown: +1 layers writing zero"
    assert [(r["new_tokens"], r["tokens"], r["seed"]) for r in rows][1:] == [(0, 10 * 64, None), (5 * 64, 15 * 64, 0)]


def test_growing_by_nothing_or_from_a_record_without_l0_is_refused(trained, tmp_path):
    with pytest.raises(SystemExit, match="add at least one layer"):
        grow_depth.main(["--ckpt", str(trained / "ckpt.pt"), "--add", "0", "--out", str(tmp_path / "g")])
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "ckpt.pt").write_bytes((trained / "ckpt.pt").read_bytes())
    with pytest.raises(SystemExit, match="give --l0"):
        grow_depth.main(["--ckpt", str(lone / "ckpt.pt"), "--add", "1", "--out", str(tmp_path / "g")])
