"""Top-activating held-out snippets for every hook-site channel of a model folder.

Usage:
  .venv/bin/python train/snippets.py --model public/models/<id> [--tokens 300000] [--data train/data] [--top 8]

Writes public/models/<id>/snippets.safetensors (format: docs/model-folder.md, "snippets.safetensors").

What is scanned. The held-out token stream (``<data>/tokens_heldout.bin``, written by data_prep.py; the held-out
split never feeds training) is cut into model windows of ``block_size`` tokens. In a window starting at ``s`` only
the positions ``[s + min_context, s + block_size - after)`` are scored, so every scored token has at least
``min_context`` tokens of context before it (all of them inside the window the model saw) and ``after`` tokens after
it. The scored ranges of consecutive windows touch when the whole stream is scanned; with ``--tokens N`` (scored
positions) fewer windows are spread evenly over the stream, so a limit still samples every package of the split.

Selection, per node (site, channel) and per direction (``top``: largest values; ``bottom``: most negative values, only
for signed sites, i.e. every site kind the registry (src/model/registry/registry.json) does not mark unsigned: all
but ``mlp.post_act``, whose GELU/ReLU output is never, or only barely, negative): each window offers its best scored
position for that channel, if the value there is strictly positive
(resp. negative); these candidates are taken greedily by value, skipping any within ``min_distance`` positions of one
already taken or showing exactly the same tokens as one already taken (repeated code), until ``top_n`` are kept. So
a node has at most one snippet per model window, no two with the same text, and with the default ``min_distance``
(the snippet width, ``before + after + 1``) its snippets never overlap: one long run fills one slot.

Each snippet is the ``before + after + 1`` tokens around its focus token with that channel's value on each of them,
quantised to int8 against the snippet's largest |value|; the focus value itself is stored exactly (float32).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from corpus import DATA  # noqa: E402
from data_prep import load_tokens, token_path  # noqa: E402
from model import GPT, Hooks, hook_sites  # noqa: E402
from model_folder import load_model_folder, sha256_file  # noqa: E402
from site_registry import site_kind_of, unsigned_kinds  # noqa: E402
from snippet_select import FAR, MAX_WIDTH, candidates, greedy, window_starts  # noqa: E402

FORMAT = "sparse-circuit-explorer/snippets-1"
FILE = "snippets.safetensors"
SPLIT = "heldout"


def has_bottom(site: str) -> bool:
    """Signed sites get a "most negative" list too; the registry marks the (almost) never negative kinds."""
    return site_kind_of(site) not in unsigned_kinds()


def _bar(total, unit, desc, progress):
    if not progress:
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit=unit, desc=desc, mininterval=2, ascii=True, dynamic_ncols=False, file=sys.stderr)


def _batches(idx: np.ndarray, batch: int):
    for b in range(0, len(idx), batch):
        yield idx[b:b + batch]


@torch.no_grad()
def _run(model: GPT, tokens: np.ndarray, starts: np.ndarray):
    T = model.cfg.block_size
    x = torch.from_numpy(np.stack([np.asarray(tokens[s:s + T], dtype=np.int64) for s in starts]))
    rec: dict = {}
    model(x, hooks=Hooks(rec))
    return x, rec


@torch.no_grad()
def compute_snippets(model: GPT, tokens: np.ndarray, max_scored: int | None = 300_000, top_n: int = 8,
                     before: int = 12, after: int = 4, min_context: int = 16, min_distance: int | None = None,
                     batch: int = 128, progress: bool = True):
    """-> (tensors, info): the contents of snippets.safetensors as numpy arrays, and its "snippets" metadata."""
    cfg = model.cfg
    T = cfg.block_size
    if min_context < before:
        raise ValueError(f"min_context ({min_context}) must be at least before ({before})")
    min_distance = before + after + 1 if min_distance is None else min_distance
    if before + after + 1 > MAX_WIDTH:
        raise ValueError("snippets wider than 1024 tokens")
    if cfg.vocab_size > 65536:
        raise ValueError("token ids are stored as uint16")
    model.eval()
    sites = hook_sites(cfg)
    starts = window_starts(len(tokens), T, min_context, after, max_scored)
    C = T - min_context - after
    width = before + after + 1
    state = {}
    for site, W in sites:
        for d in (("top", "bottom") if has_bottom(site) else ("top",)):
            state[(site, d)] = (torch.full((W, top_n), -math.inf), torch.full((W, top_n), FAR, dtype=torch.int64),
                                torch.zeros((W, top_n), dtype=torch.int64), torch.zeros((W, top_n, width)),
                                torch.zeros((W, top_n), dtype=torch.int64))

    bar = _bar(len(starts) * C, "tok", "scan", progress)
    for chunk in _batches(starts, batch):
        x, rec = _run(model, tokens, chunk)
        for site, W in sites:
            a = rec[site].float()
            for d in (("top", "bottom") if has_bottom(site) else ("top",)):
                cv, cb, ct, ca, ck = candidates(a, x, 1.0 if d == "top" else -1.0, min_context, T - after,
                                                 2 * top_n, before, after)
                cs = torch.from_numpy(chunk)[cb]  # window starts [W, k]
                sv, ss, st, sa, sk = state[(site, d)]
                vals, ws, ts, acts, keys = (torch.cat(z, 1) for z in ((sv, cv), (ss, cs), (st, ct), (sa, ca), (sk, ck)))
                sel = greedy(vals, ws + ts, keys, top_n, min_distance)
                keep = sel >= 0
                idx = sel.clamp(min=0)
                state[(site, d)] = (torch.where(keep, vals.gather(1, idx), torch.full_like(sv, -math.inf)),
                                    ws.gather(1, idx), ts.gather(1, idx),
                                    acts.gather(1, idx[:, :, None].expand(-1, -1, width)), keys.gather(1, idx))
        if bar:
            bar.update(len(chunk) * C)
    if bar:
        bar.close()

    # the snippet table: per site, top then bottom, channel-major, best first
    value, wstart, ctx, rows_acts = [], [], [], []
    offsets = {}
    for site, W in sites:
        for d in (("top", "bottom") if has_bottom(site) else ("top",)):
            sv, ss, st, sa, _ = state[(site, d)]
            ok = torch.isfinite(sv)  # [W, n]; the kept ones come first in each row
            value.append(sa[:, :, before][ok])
            wstart.append(ss[ok])
            ctx.append(st[ok])
            rows_acts.append(sa[ok])
            base = sum(len(v) for v in value[:-1])
            offsets[f"{site}.{d}"] = np.concatenate([[0], np.cumsum(ok.sum(1).numpy())]).astype(np.int32) + base
    value = torch.cat(value).numpy().astype(np.float32)
    ctx = torch.cat(ctx).numpy()
    pos = torch.cat(wstart).numpy() + ctx
    acts = torch.cat(rows_acts).numpy().astype(np.float32)
    S = len(value)
    assert S == 0 or (ctx.min() >= min_context and ctx.max() < T - after)
    scale = np.abs(acts).max(axis=1) if S else np.zeros(0, dtype=np.float32)
    q = np.round(acts / np.where(scale > 0, scale, 1)[:, None] * 127).clip(-127, 127).astype(np.int8)

    # token pool: the union of all snippet windows, merged where they overlap or touch
    first = pos - before
    seg_starts, seg_ends = [], []
    for g in np.unique(first):
        if seg_ends and g <= seg_ends[-1]:
            seg_ends[-1] = max(seg_ends[-1], g + width)
        else:
            seg_starts.append(int(g))
            seg_ends.append(int(g) + width)
    seg_starts_a = np.asarray(seg_starts, dtype=np.int64)
    seg_len = np.asarray(seg_ends, dtype=np.int64) - seg_starts_a
    seg_pool = np.concatenate([[0], np.cumsum(seg_len)[:-1]]) if len(seg_len) else np.zeros(0, dtype=np.int64)
    pool = (np.concatenate([np.asarray(tokens[a:b], dtype=np.uint16) for a, b in zip(seg_starts, seg_ends)])
            if seg_starts else np.zeros(0, dtype=np.uint16))
    seg = np.searchsorted(seg_starts_a, first, side="right") - 1
    start = seg_pool[seg] + (first - seg_starts_a[seg]) if S else np.zeros(0, dtype=np.int64)

    tensors = {
        "tokens": pool.astype(np.uint16),
        "value": value,
        "scale": scale.astype(np.float32),
        "acts": q,
        "start": start.astype(np.int32),
        "pos": pos.astype(np.int32),
        "context": ctx.astype(np.uint16),
    }
    tensors.update(offsets)
    info = {
        "split": SPLIT,
        "source": os.path.basename(token_path(SPLIT)),
        "source_tokens": int(len(tokens)),
        "scored_tokens": int(len(starts) * C),
        "windows": int(len(starts)),
        "block_size": T,
        "min_context": min_context,
        "before": before,
        "after": after,
        "top_n": top_n,
        "min_distance": min_distance,
        "bottom_sites": [s for s, _ in sites if has_bottom(s)],
        "snippets": S,
        "quantization": "value of token j of snippet i = acts[i, j] * scale[i] / 127",
    }
    return tensors, info


def write_snippets(folder: str, tokens: int | None = 300_000, data_dir: str = DATA, model: GPT | None = None,
                   progress: bool = True, **kw) -> dict:
    """Scan the held-out tokens with the model of `folder` (or `model`) and write folder/snippets.safetensors."""
    from safetensors.numpy import save_file
    model = model or load_model_folder(folder)
    stream = load_tokens(SPLIT, data_dir)
    t0 = time.time()
    tensors, info = compute_snippets(model, stream, max_scored=tokens, progress=progress, **kw)
    ms = os.path.join(folder, "model.safetensors")
    info["model_sha256"] = sha256_file(ms) if os.path.exists(ms) else None
    info["seconds"] = round(time.time() - t0, 1)
    out = os.path.join(folder, FILE)
    save_file(tensors, out, metadata={"format": FORMAT, "snippets": json.dumps(info)})
    os.chmod(out, 0o644)
    info["bytes"] = os.path.getsize(out)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="model folder (public/models/<id>)")
    ap.add_argument("--tokens", type=int, default=300_000,
                    help="held-out positions to score (0: the whole split); default 300000")
    ap.add_argument("--data", default=DATA, help="folder with tokens_heldout.bin")
    ap.add_argument("--top", type=int, default=8, help="snippets per node and direction")
    ap.add_argument("--before", type=int, default=12)
    ap.add_argument("--after", type=int, default=4)
    ap.add_argument("--min-context", type=int, default=16)
    ap.add_argument("--min-distance", type=int, default=None, help="default: before + after + 1")
    ap.add_argument("--batch", type=int, default=128, help="model windows per forward pass")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    info = write_snippets(args.model, tokens=args.tokens or None, data_dir=args.data, progress=not args.no_progress,
                          top_n=args.top, before=args.before, after=args.after, min_context=args.min_context,
                          min_distance=args.min_distance, batch=args.batch)
    print(json.dumps({k: info[k] for k in ("split", "source_tokens", "scored_tokens", "windows", "snippets",
                                           "bytes", "seconds")}))


if __name__ == "__main__":
    main()
