import os

import pytest
import torch

from conftest import TINY
import train as trainer
from export import load_run
from sparsity import sparsified_params
from weights_file import RECORD_FILES, keep_run, load_checkpoint

# a tenth of every sparsified tensor kept (the per-neuron minimum lowered so that 16-wide matrices can go below 1/4),
# at its target from the first step: sparse enough that the slim file stores the matrices as COO
SPARSE = ["--l0", "0.1", "--min-per-neuron", "1", "--anneal-start", "0", "--anneal-end", "0"]


def run(out, data, *extra):
    return trainer.train(trainer.parse_args(["--out", str(out), "--data", str(data), *TINY, *SPARSE, *extra]))


@pytest.mark.filterwarnings("ignore:Validating sparse tensor invariants")
def test_slim_checkpoint_keeps_the_weights_exactly_and_drops_the_optimizer(tiny_data, tmp_path):
    full_dir, slim_dir = tmp_path / "run", tmp_path / "kept"
    run(full_dir, tiny_data, "--total-tokens", str(10 * 64))
    keep_run(str(full_dir), str(slim_dir))
    assert all((slim_dir / name).read_bytes() == (full_dir / name).read_bytes() for name in RECORD_FILES)
    raw = torch.load(slim_dir / "ckpt.pt", weights_only=True)
    assert "opt" not in raw and "rng" not in raw and raw["tokens"] == 10 * 64
    # every matrix (a tenth kept) is stored sparse; the norms' gains, dense weights, stay dense
    model, _, _ = load_run(str(full_dir))
    matrices = {name for name, p in sparsified_params(model) if p.dim() == 2}
    assert matrices and all(raw["model"][k].is_sparse for k in matrices)
    assert all(not v.is_sparse for k, v in raw["model"].items() if ".ln_" in k or k.endswith("ln_f.weight"))
    full, slim = load_checkpoint(str(full_dir / "ckpt.pt")), load_checkpoint(str(slim_dir / "ckpt.pt"))
    assert full["model"].keys() == slim["model"].keys()
    assert all(not v.is_sparse and torch.equal(v, full["model"][k]) for k, v in slim["model"].items())
    assert os.path.getsize(slim_dir / "ckpt.pt") < os.path.getsize(full_dir / "ckpt.pt") / 3
    # export.py reads the slim file as it reads a run's own
    from_slim, _, _ = load_run(str(slim_dir))
    x = torch.tensor([[1, 2, 3, 4]])
    assert torch.equal(from_slim(x), model(x))


def test_a_stage_from_the_slim_file_trains_as_one_from_the_full_file(tiny_data, tmp_path):
    run(tmp_path / "first", tiny_data, "--total-tokens", str(10 * 64))
    keep_run(str(tmp_path / "first"), str(tmp_path / "kept"))
    later = ["--total-tokens", str(5 * 64)]
    run(tmp_path / "from_full", tiny_data, *later, "--init-from", str(tmp_path / "first" / "ckpt.pt"))
    run(tmp_path / "from_slim", tiny_data, *later, "--init-from", str(tmp_path / "kept" / "ckpt.pt"))
    a = load_checkpoint(str(tmp_path / "from_full" / "ckpt.pt"))
    b = load_checkpoint(str(tmp_path / "from_slim" / "ckpt.pt"))
    assert b["init_tokens"] == 10 * 64
    assert all(torch.equal(v, a["model"][k]) for k, v in b["model"].items())


def test_a_kept_record_without_weights_is_refused_by_every_reader(tmp_path):
    (tmp_path / "train_args.json").write_text("{}")
    with pytest.raises(SystemExit, match=r"ckpt\.pt: no such file; its folder keeps that stage's record but not its weights"):
        load_checkpoint(str(tmp_path / "ckpt.pt"))
    with pytest.raises(SystemExit, match=r"ckpt\.pt: no such file; its folder keeps that stage's record"):
        load_run(str(tmp_path))


def test_keep_run_refuses_its_own_folder_and_a_folder_without_a_record(tiny_data, tmp_path):
    run(tmp_path / "r", tiny_data, "--total-tokens", str(5 * 64))
    with pytest.raises(SystemExit, match="another folder"):
        keep_run(str(tmp_path / "r"), str(tmp_path / "r"))
    (tmp_path / "bare").mkdir()
    with pytest.raises(SystemExit, match="no config.json"):
        keep_run(str(tmp_path / "bare"), str(tmp_path / "out"))
