"""Per-step helpers of the training loop that carry state: global gradient-RMS rescaling, and RNG states stored
as tensors and plain values so a checkpoint loads with torch.load(weights_only=True)."""
from __future__ import annotations

import random

import numpy as np
import torch


def rescale_grads_(params):
    """g /= (rms(g) + 1e-5) over all parameters together (global gradient RMS -> 1)."""
    grads = [p.grad for p in params if p.grad is not None]
    n = sum(g.numel() for g in grads)
    sq = sum(g.float().pow(2).sum() for g in grads)
    rms = torch.sqrt(sq / n)
    for g in grads:
        g.div_(rms + 1e-5)
    return float(rms)


def rng_state():
    """RNG states as tensors and plain Python values, so that a checkpoint loads with torch.load(weights_only=True)
    (no pickled numpy objects: loading a checkpoint never runs code from it)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {"torch": torch.get_rng_state(),
            "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)],
            "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(s):
    torch.set_rng_state(s["torch"])
    kind, keys, pos, has_gauss, cached = s["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    random.setstate(s["python"])
    if s.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])
