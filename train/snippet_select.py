"""How train/snippets.py picks its snippets: where the model windows start, each window's best position per channel,
and the greedy per-channel selection that keeps snippets apart and drops repeated code (the rules are written out
in snippets.py's docstring). Pure tensor code, no files, so the selection can be tested on its own.
"""
from __future__ import annotations

import math

import numpy as np
import torch

FAR = -(1 << 40)  # position of an empty slot: far from every real position
_HASH = torch.from_numpy(np.random.default_rng(0).integers(1, 1 << 62, size=1024, dtype=np.int64))
MAX_WIDTH = len(_HASH)  # widest snippet whose tokens can be hashed


def window_starts(n_stream: int, block: int, min_context: int, after: int, max_scored: int | None) -> np.ndarray:
    """Start positions of the model windows. Scored ranges never overlap; evenly spread when limited."""
    C = block - min_context - after
    if C <= 0:
        raise ValueError(f"block_size {block} leaves no scored positions with min_context {min_context}, after {after}")
    if n_stream < block:
        raise ValueError(f"the token stream has {n_stream} tokens, fewer than one window ({block})")
    full = (n_stream - block) // C + 1
    n = full if max_scored is None else max(1, min(full, math.ceil(max_scored / C)))
    if n == full:
        return np.arange(n, dtype=np.int64) * C
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    # floor(k * (n_stream - block) / (n - 1)): consecutive starts differ by more than C since n < full
    return (np.arange(n, dtype=np.int64) * (n_stream - block)) // (n - 1)


def candidates(a: torch.Tensor, x: torch.Tensor, sign: float, lo: int, hi: int, k: int, before: int, after: int):
    """The k best windows per channel, each by its best scored position.

    a: one site's values [B, T, W] for a batch of windows x [B, T]; scored positions are lo..hi-1 of each window.
    -> values [W, k] (sign * activation; -inf when not strictly positive), window index in the batch [W, k],
       position in the window [W, k], the channel's values on the snippet's tokens [W, k, before + after + 1], and
       a hash of those tokens [W, k].
    """
    B, T, W = a.shape
    best, t = (sign * a[:, lo:hi, :]).max(dim=1)  # [B, W]
    t = t + lo
    k = min(k, B)
    vals, b = best.t().topk(k, dim=1)  # [W, k]
    t = t.t().gather(1, b)
    vals = torch.where(vals > 0, vals, torch.full_like(vals, -math.inf))
    rel = torch.arange(-before, after + 1)
    ch = torch.arange(W)[:, None, None]
    acts = a[b[:, :, None], t[:, :, None] + rel, ch]  # [W, k, width]
    toks = x[b[:, :, None], t[:, :, None] + rel]
    return vals, b, t, acts, (toks * _HASH[:toks.shape[-1]]).sum(-1)  # int64 arithmetic wraps: fine for a hash


def greedy(vals: torch.Tensor, pos: torch.Tensor, key: torch.Tensor, n: int, min_distance: int) -> torch.Tensor:
    """Greedy selection per channel over candidates vals/pos/key [W, M] (higher is better, -inf: none): the indices
    [W, n] (-1: empty) of the n best, taken by value, skipping any within min_distance of one already taken or
    with the same key (the same tokens: repeated code)."""
    W, M = vals.shape
    order = torch.sort(vals, dim=1, descending=True, stable=True).indices
    vals, pos, key = vals.gather(1, order), pos.gather(1, order), key.gather(1, order)
    sel = torch.full((W, n), -1, dtype=torch.int64)
    taken = torch.full((W, n), FAR, dtype=torch.int64)
    taken_key = torch.zeros((W, n), dtype=torch.int64)
    cnt = torch.zeros(W, dtype=torch.int64)
    for m in range(M):
        v, p = vals[:, m], pos[:, m]
        live = torch.isfinite(v)
        if not bool(live.any()):
            break
        ok = live & (cnt < n) & ((taken - p[:, None]).abs() >= min_distance).all(dim=1)
        ok &= ((taken_key != key[:, m, None]) | (taken == FAR)).all(dim=1)
        ch = ok.nonzero(as_tuple=True)[0]
        if len(ch) == 0:
            continue
        sel[ch, cnt[ch]] = order[ch, m]
        taken[ch, cnt[ch]] = p[ch]
        taken_key[ch, cnt[ch]] = key[ch, m]
        cnt[ch] += 1
    return sel
