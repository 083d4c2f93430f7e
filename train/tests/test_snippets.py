import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from conftest import TRAIN
import model_folder as mf
import snippets as sn
from model import GPT, GPTConfig, Hooks, LOCTYPES_ALL, hook_sites, save_config

T, BEFORE, AFTER, MIN_CTX, TOP = 16, 3, 2, 4, 4
KW = dict(before=BEFORE, after=AFTER, min_context=MIN_CTX, top_n=TOP)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A tiny random model folder, a held-out token file, and its snippets over the whole stream."""
    root = tmp_path_factory.mktemp("snip")
    torch.manual_seed(0)
    cfg = GPTConfig(block_size=T, vocab_size=64, n_layer=2, n_head=2, d_head=4, d_model=16, d_mlp=32, afrac=0.25,
                    afrac_loctypes=",".join(LOCTYPES_ALL))
    model = GPT(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # biases and norms away from their init, so values are signed
    out = root / "model"
    out.mkdir()
    save_config(cfg, str(out / "config.json"))
    tensors, meta = mf.to_compact(mf.export_state(model))
    save_file(tensors, str(out / "model.safetensors"), metadata=meta)
    data = root / "data"
    data.mkdir()
    np.random.default_rng(1).integers(0, 64, size=3000).astype(np.uint16).tofile(data / "tokens_heldout.bin")
    info = sn.write_snippets(str(out), tokens=None, data_dir=str(data), progress=False, **KW)
    return out, data, info


def read(path):
    with safe_open(str(path), framework="np") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()


def lists(t, site, d):
    o = t.get(f"{site}.{d}")
    if o is None:
        return None
    return [np.arange(o[c], o[c + 1]) for c in range(len(o) - 1)]


@torch.no_grad()
def recompute(model, stream, starts):
    x = torch.from_numpy(np.stack([stream[s:s + T].astype(np.int64) for s in starts]))
    rec = {}
    model(x, hooks=Hooks(rec))
    return rec


def test_file_records_split_and_layout(folder):
    out, _, info = folder
    t, meta = read(out / sn.FILE)
    assert meta["format"] == sn.FORMAT
    m = json.loads(meta["snippets"])
    C = T - MIN_CTX - AFTER
    assert m["split"] == "heldout" and m["source_tokens"] == 3000
    assert m["windows"] == (3000 - T) // C + 1 and m["scored_tokens"] == m["windows"] * C
    assert m["model_sha256"] == mf.sha256_file(str(out / "model.safetensors"))
    S = m["snippets"]
    assert S == len(t["value"]) == len(t["pos"]) == len(t["start"]) == len(t["context"]) == len(t["scale"]) > 0
    assert t["acts"].shape == (S, BEFORE + AFTER + 1) and t["acts"].dtype == np.int8
    assert t["tokens"].dtype == np.uint16 and t["value"].dtype == np.float32
    cfg = mf.load_model_folder(str(out)).cfg
    for site, width in hook_sites(cfg):
        assert len(t[f"{site}.top"]) == width + 1
        assert (f"{site}.bottom" in t) == (not site.endswith("mlp.post_act"))
        assert (f"{site}.bottom" in t) == (site in m["bottom_sites"])
    # the lists tile the table in order
    ends = sorted((t[k][0], t[k][-1]) for k in t if k.endswith(".top") or k.endswith(".bottom"))
    assert ends[0][0] == 0 and ends[-1][1] == S
    assert all(a[1] == b[0] for a, b in zip(ends, ends[1:]))


def test_values_match_the_model(folder):
    out, data, _ = folder
    t, _ = read(out / sn.FILE)
    model = mf.load_model_folder(str(out))
    stream = np.fromfile(data / "tokens_heldout.bin", dtype=np.uint16)
    pos, ctx = t["pos"].astype(np.int64), t["context"].astype(np.int64)
    assert (ctx >= MIN_CTX).all() and (ctx < T - AFTER).all()
    rec = recompute(model, stream, pos - ctx)
    rows = np.arange(len(pos))
    checked = 0
    for site, width in hook_sites(model.cfg):
        for d in ("top", "bottom"):
            ls = lists(t, site, d)
            if ls is None:
                continue
            for ch, idx in enumerate(ls):
                for i in idx:
                    r = rec[site][rows[i], :, ch].numpy()
                    c = ctx[i]
                    assert t["value"][i] == pytest.approx(r[c], abs=1e-5, rel=1e-5)
                    window = r[c - BEFORE:c + AFTER + 1]
                    deq = t["acts"][i].astype(np.float32) * t["scale"][i] / 127
                    assert t["scale"][i] == pytest.approx(np.abs(window).max(), rel=1e-5)
                    assert np.abs(deq - window).max() <= t["scale"][i] / 254 + 1e-6
                    s = t["start"][i]
                    assert (t["tokens"][s:s + BEFORE + AFTER + 1] == stream[pos[i] - BEFORE:pos[i] + AFTER + 1]).all()
                    checked += 1
    assert checked == len(pos)


def test_sorted_deduped_and_best_first(folder):
    out, data, _ = folder
    t, meta = read(out / sn.FILE)
    m = json.loads(meta["snippets"])
    model = mf.load_model_folder(str(out))
    stream = np.fromfile(data / "tokens_heldout.bin", dtype=np.uint16)
    starts = sn.window_starts(len(stream), T, MIN_CTX, AFTER, None)
    rec = recompute(model, stream, starts)
    window_of = (t["pos"] - t["context"]).astype(np.int64)
    for site, width in hook_sites(model.cfg):
        scored = rec[site][:, MIN_CTX:T - AFTER, :].reshape(-1, width)
        for d in ("top", "bottom"):
            ls = lists(t, site, d)
            if ls is None:
                continue
            for ch, idx in enumerate(ls):
                v = t["value"][idx]
                assert len(idx) <= TOP
                if d == "top":
                    assert (v > 0).all() and (np.diff(v) <= 0).all()
                    best = float(scored[:, ch].max())
                    assert len(idx) == 0 if best <= 0 else v[0] == pytest.approx(best, abs=1e-5, rel=1e-5)
                else:
                    assert (v < 0).all() and (np.diff(v) >= 0).all()
                    best = float(scored[:, ch].min())
                    assert len(idx) == 0 if best >= 0 else v[0] == pytest.approx(best, abs=1e-5, rel=1e-5)
                p = t["pos"][idx].astype(np.int64)
                gaps = np.abs(p[:, None] - p[None, :]) + np.eye(len(p), dtype=np.int64) * 10**9
                assert len(p) < 2 or gaps.min() >= m["min_distance"]
                assert len(set(window_of[idx])) == len(idx)  # at most one per model window
                texts = {tuple(stream[q - BEFORE:q + AFTER + 1]) for q in p}
                assert len(texts) == len(idx)  # no repeated text
    # some node had more good windows than slots: the lists are full somewhere, and nodes disagree
    assert any(len(ix) == TOP for ix in lists(t, "0.mlp.post_act", "top"))


def test_repeated_code_fills_one_slot(folder):
    out, _, _ = folder
    model = mf.load_model_folder(str(out))
    stream = np.tile(np.random.default_rng(2).integers(0, 64, size=37), 60).astype(np.uint16)
    t, info = sn.compute_snippets(model, stream, max_scored=None, progress=False, **KW)
    texts = [tuple(t["tokens"][s:s + BEFORE + AFTER + 1]) for s in t["start"]]
    repeats = 0
    for k, o in t.items():
        if k.endswith(".top") or k.endswith(".bottom"):
            for c in range(len(o) - 1):
                mine = texts[o[c]:o[c + 1]]
                assert len(set(mine)) == len(mine), (k, c)
                repeats += len(mine)
    # the dedupe had work to do: each text occurs in many windows, at slightly different values
    assert repeats > 0 and info["windows"] > 37


def test_limited_scan_spreads_windows():
    C = T - MIN_CTX - AFTER
    s = sn.window_starts(3000, T, MIN_CTX, AFTER, 100)
    assert len(s) == 10 and s[0] == 0 and s[-1] == 3000 - T
    assert (np.diff(s) > C).all()
    assert (sn.window_starts(3000, T, MIN_CTX, AFTER, None) == np.arange((3000 - T) // C + 1) * C).all()
    with pytest.raises(ValueError):
        sn.window_starts(10, T, MIN_CTX, AFTER, None)


def test_cli(folder, tmp_path):
    out, data, _ = folder
    dst = tmp_path / "m"
    dst.mkdir()
    for f in ("config.json", "model.safetensors"):
        (dst / f).write_bytes((out / f).read_bytes())
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, os.path.join(TRAIN, "snippets.py"), "--model", str(dst), "--data", str(data),
                        "--tokens", "200", "--before", str(BEFORE), "--after", str(AFTER), "--min-context",
                        str(MIN_CTX), "--top", "2", "--no-progress"], capture_output=True, text=True, env=env,
                       check=True)
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["split"] == "heldout" and summary["scored_tokens"] == 200 and summary["windows"] == 20
    t, meta = read(dst / sn.FILE)
    assert json.loads(meta["snippets"])["top_n"] == 2 and summary["bytes"] == os.path.getsize(dst / sn.FILE)
