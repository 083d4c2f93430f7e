import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import TINY, TRAIN
import train as trainer
from resume_args import update_on_resume


def run(out, data, *extra):
    args = trainer.parse_args(["--out", str(out), "--data", str(data), *TINY, *extra])
    return trainer.train(args)


def load(out):
    return torch.load(os.path.join(out, "ckpt.pt"), map_location="cpu", weights_only=True)


def test_training_reduces_loss_and_keeps_sparsity(tiny_data, tmp_path):
    out = tmp_path / "run"
    model, step = run(out, tiny_data, "--total-tokens", str(40 * 4 * 16), "--ckpt-every", "1000")
    assert step == 40
    ck = load(out)
    assert ck["step"] == 40 and ck["tokens"] == 40 * 64
    # after annealing, every sparsified tensor holds its target count
    from sparsity import sparsified_params
    for name, p in sparsified_params(model):
        k = int(0.25 * p.numel())
        if name.endswith(("c_fc.weight", "c_attn.weight")):
            k = max(k, p.shape[0] * 4)
        elif name.endswith("c_proj.weight"):
            k = max(k, p.shape[1] * 4)
        assert int((p != 0).sum()) == max(k, 1), name
    lines = open(out / "metrics.jsonl").read().splitlines()
    assert len(lines) == 8 and '"val_loss"' in lines[-1] and '"alive_neurons"' in lines[-1]


def test_a_folder_with_a_val_extra_split_scores_it_at_every_evaluation(tiny_data, tmp_path):
    run(tmp_path / "base", tiny_data, "--total-tokens", str(10 * 64))
    base = [json.loads(line) for line in open(tmp_path / "base" / "metrics.jsonl")]
    assert all("val_extra_loss" not in r for r in base)
    # The extra split holds one token repeated, far from the random val text, so its loss differs from val's.
    np.full(4000, 3, dtype=np.uint16).tofile(tiny_data / "tokens_val_extra.bin")
    run(tmp_path / "ext", tiny_data, "--total-tokens", str(10 * 64))
    ext = [json.loads(line) for line in open(tmp_path / "ext" / "metrics.jsonl")]
    evals = [r for r in ext if "val_loss" in r]
    assert len(evals) == 2 and all("val_extra_loss" in r for r in evals)
    assert all(abs(r["val_extra_loss"] - r["val_loss"]) > 0.1 for r in evals)
    # scoring the extra split changes nothing the run learns or reports on val
    assert [r["val_loss"] for r in evals] == [r["val_loss"] for r in base if "val_loss" in r]


def test_resume_equals_uninterrupted(tiny_data, tmp_path):
    total = ["--total-tokens", str(30 * 64), "--ckpt-every", "7"]
    run(tmp_path / "a", tiny_data, *total)
    run(tmp_path / "b", tiny_data, *total, "--stop-after", "13")  # checkpoint at 13 (stop), resume from there
    assert load(tmp_path / "b")["step"] == 13
    run(tmp_path / "b", tiny_data, *total)
    a, b = load(tmp_path / "a"), load(tmp_path / "b")
    assert a["step"] == b["step"] == 30
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    sa, sb = a["opt"]["state"], b["opt"]["state"]
    for i in sa:
        assert torch.equal(sa[i]["exp_avg"], sb[i]["exp_avg"]) and torch.equal(sa[i]["exp_avg_sq"], sb[i]["exp_avg_sq"])


def test_dense_twin_has_no_sparsity(tiny_data, tmp_path):
    model, _ = run(tmp_path / "d", tiny_data, "--dense", "--total-tokens", str(10 * 64))
    assert model.cfg.afrac is None
    assert all(int((p != 0).sum()) > 0.9 * p.numel() for n, p in model.named_parameters() if p.dim() == 2)


def test_two_process_gloo_through_torchrun(tiny_data, tmp_path):
    """Two processes started by the real torchrun launcher (gloo backend on CPU); rank 0 writes the checkpoint."""
    out = tmp_path / "ddp"
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    launcher = [torchrun] if os.path.exists(torchrun) else [sys.executable, "-m", "torch.distributed.run"]
    cmd = [*launcher, "--standalone", "--nproc_per_node", "2", os.path.join(TRAIN, "train.py"),
           "--out", str(out), "--data", str(tiny_data), *TINY, "--total-tokens", str(10 * 2 * 64), "--device", "cpu"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    ck = load(out)
    assert ck["step"] == 10 and ck["tokens"] == 10 * 2 * 64  # two processes: twice the tokens per step


def test_default_threads_share_the_cores_among_local_processes(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert trainer.default_threads() == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert trainer.default_threads() == 3


def test_focus_windows_put_a_focus_token_among_the_targets():
    import numpy as np
    tokens = np.random.default_rng(1).integers(0, 50, size=5000).astype(np.uint16)
    tokens[[123, 2400, 4990]] = 60  # a rare token
    focus = trainer.focus_positions(tokens, [60, 63])  # 63 never occurs: dropped
    assert [list(p) for p in focus] == [[123, 2400, 4990]]
    plain_x, _ = trainer.get_batch(tokens, 8, 16, 0, 5, 0, "cpu")
    x, y = trainer.get_batch(tokens, 8, 16, 0, 5, 0, "cpu", focus, 0.5)
    for i in range(4):  # round(8 * 0.5) focus windows first: the rare token is one of their targets
        assert (y[i] == 60).any(), i
    assert torch.equal(x[4:], plain_x[4:])  # the other windows are the plain ones


def test_continuation_counts_earlier_tokens_and_chains_commands(tiny_data, tmp_path):
    import json
    run(tmp_path / "first", tiny_data, "--total-tokens", str(10 * 64))
    run(tmp_path / "second", tiny_data, "--total-tokens", str(5 * 64), "--init-from", str(tmp_path / "first" / "ckpt.pt"),
        "--anneal-start", "0", "--anneal-end", "0")
    ck = load(tmp_path / "second")
    assert ck["init_tokens"] == 10 * 64 and ck["tokens"] == 15 * 64
    targs = json.load(open(tmp_path / "second" / "train_args.json"))
    assert len(targs["commands"]) == 2 and targs["init_tokens"] == 10 * 64
    # no anneal: the target sparsity holds from the first step
    from sparsity import l0_frac
    assert l0_frac(0, 5, 0.25, 0, 0) == 0.25


def test_a_missing_init_checkpoint_is_refused_before_training(tiny_data, tmp_path):
    with pytest.raises(SystemExit, match=r"--init-from .*nowhere/ckpt\.pt: no such file$"):
        run(tmp_path / "a", tiny_data, "--init-from", str(tmp_path / "nowhere" / "ckpt.pt"))
    # a kept stage record without its weights says where the weights are
    (tmp_path / "record").mkdir()
    (tmp_path / "record" / "train_args.json").write_text("{}")
    with pytest.raises(SystemExit, match="keeps that stage's record but not its weights"):
        run(tmp_path / "b", tiny_data, "--init-from", str(tmp_path / "record" / "ckpt.pt"))
    assert not (tmp_path / "b" / "ckpt.pt").exists()


def test_a_continuation_can_start_from_the_earlier_runs_optimizer_state(tiny_data, tmp_path):
    run(tmp_path / "first", tiny_data, "--total-tokens", str(6 * 64))
    first = load(tmp_path / "first")
    stage = ["--total-tokens", str(64), "--anneal-start", "0", "--anneal-end", "0", "--beta2", "0.99"]
    # one step from the first run's Adam moments: each moment goes on from the saved one (not from zero), the step
    # counts go on, and this run's beta2 replaces the saved 0.95
    run(tmp_path / "warm", tiny_data, *stage, "--init-from", str(tmp_path / "first" / "ckpt.pt"), "--init-optimizer")
    run(tmp_path / "cold", tiny_data, *stage, "--init-from", str(tmp_path / "first" / "ckpt.pt"))
    warm, cold = load(tmp_path / "warm"), load(tmp_path / "cold")
    assert warm["opt"]["param_groups"][0]["betas"] == (0.9, 0.99)
    for i, saved in first["opt"]["state"].items():
        assert float(warm["opt"]["state"][i]["step"]) == float(saved["step"]) + 1
        assert float(cold["opt"]["state"][i]["step"]) == 1
        # with beta2 0.99, a moment that started from the saved one keeps 0.99 of it
        assert torch.all(warm["opt"]["state"][i]["exp_avg_sq"] >= 0.99 * saved["exp_avg_sq"] - 1e-12)
    assert any(not torch.equal(warm["model"][k], cold["model"][k]) for k in warm["model"])
    # a slim copy holds no optimizer state: refused by name
    from weights_file import slim
    slim(str(tmp_path / "first" / "ckpt.pt"), str(tmp_path / "slim.pt"))
    with pytest.raises(SystemExit, match="holds no optimizer state"):
        run(tmp_path / "refused", tiny_data, *stage, "--init-from", str(tmp_path / "slim.pt"), "--init-optimizer")
    with pytest.raises(SystemExit):
        trainer.parse_args(["--out", str(tmp_path / "x"), "--init-optimizer"])


def test_resume_records_the_new_stop_and_refuses_other_arguments(tiny_data, tmp_path):
    out = tmp_path / "r"
    total = ["--total-tokens", str(20 * 64), "--ckpt-every", "5"]
    run(out, tiny_data, *total, "--stop-after", "5")
    record = json.loads((out / "train_args.json").read_text())
    assert record["stop_after"] == 5 and "--stop-after 5" in record["command"]
    # another learning rate would train the rest unlike the record says: refused, nothing trained
    with pytest.raises(SystemExit, match=r"--lr 0\.01 -> 0\.02"):
        run(out, tiny_data, *total, "--lr", "0.02")
    assert load(out)["step"] == 5
    # a stop the checkpoint has already passed is refused; one it stands at trains nothing more
    with pytest.raises(SystemExit, match="already at step 5"):
        run(out, tiny_data, *total, "--stop-after", "4")
    logged = (out / "metrics.jsonl").read_text()
    run(out, tiny_data, *total, "--stop-after", "5")
    assert load(out)["step"] == 5 and (out / "metrics.jsonl").read_text() == logged
    assert json.loads((out / "train_args.json").read_text())["stop_after"] == 5
    # so would another process count (each rank draws its own batches)
    with pytest.raises(SystemExit, match=r"processes 1 -> 2"):
        update_on_resume(str(out / "train_args.json"), dict(record, world=2), record["command"], write=False)
    # going on to the end: the record's command is the one that reproduces the checkpoint now
    run(out, tiny_data, *total)
    record = json.loads((out / "train_args.json").read_text())
    assert load(out)["step"] == 20
    assert record["stop_after"] is None and "--stop-after" not in record["command"]
    assert record["commands"] == [record["command"]] and "--stop-after" not in " ".join(record["argv"])


def test_extra_focus_forms_need_construct_focus_and_a_known_name(tmp_path, capsys):
    out = str(tmp_path / "x")
    with pytest.raises(SystemExit):
        trainer.parse_args(["--out", out, "--focus-extra", "subscript_in_list"])
    assert "--focus-extra adds forms to --focus-constructs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        trainer.parse_args(["--out", out, "--focus-constructs", "--focus-extra", "brackets"])
    assert "unknown extra focus forms ['brackets']" in capsys.readouterr().err
    args = trainer.parse_args(["--out", out, "--focus-constructs", "--focus-extra", "subscript_in_list"])
    assert args.focus_extra == ["subscript_in_list"]


def test_focus_weights_need_construct_focus_and_are_checked_before_training(tmp_path, capsys):
    out = str(tmp_path / "x")
    with pytest.raises(SystemExit):
        trainer.parse_args(["--out", out, "--focus-weight", "def_or_call=3"])
    assert "--focus-weight weights the forms of --focus-constructs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        trainer.parse_args(["--out", out, "--focus-constructs", "--focus-weight", "def_or_call=three"])
    assert "--focus-weight: 'def_or_call=three' is not TASK=N" in capsys.readouterr().err
    args = trainer.parse_args(["--out", out, "--focus-constructs", "--focus-weight", "def_or_call=3",
                               "--focus-weight", "fstring_brace=2"])
    assert args.focus_weights == {"def_or_call": 3, "fstring_brace": 2}
    assert trainer.parse_args(["--out", out]).focus_weights == {}
