"""Training and validation batches from the flat token files: seeded random windows, optionally placed on focus
tokens (rare constructs re-weighted without synthetic text), and fixed validation windows."""
from __future__ import annotations

import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def focus_positions(tokens: np.ndarray, token_ids: list[int]) -> list[np.ndarray]:
    """Positions of each focus token in the training stream (one array per token; empty ones dropped)."""
    out = [np.flatnonzero(np.asarray(tokens) == t) for t in token_ids]
    return [p for p in out if len(p) > 0]


def resolve_focus_tokens(spec: str, tok_dir: str) -> list[int]:
    """'a,b' with Python escapes -> token ids; each string must be exactly one token."""
    from tokenizer_train import load_tiktoken
    enc = load_tiktoken(tok_dir)
    ids = []
    for raw in spec.split(","):
        text = raw.encode("utf-8").decode("unicode_escape")
        toks = enc.encode_ordinary(text)
        if len(toks) != 1:
            raise SystemExit(f"--focus-tokens: {raw!r} is {len(toks)} tokens, not one")
        ids.append(toks[0])
    return ids


def task_target_tokens(tasks_dir: str) -> list[int]:
    """The correct and alternative token of every task in a tasks/ folder (each once)."""
    from task_eval import load_tasks
    ids = {t for prompts in load_tasks(tasks_dir, "train").values() for p in prompts
           for t in (p["correct"], p["alternative"])}
    return sorted(ids)


def window_starts(n_tokens: int, batch: int, T: int, seed: int, step: int, rank: int,
                  focus: list[np.ndarray] | None = None, focus_frac: float = 0.0) -> np.ndarray:
    """Start offsets of the batch for (seed, step, rank): random windows of T+1 tokens. Depends on nothing else, so
    resuming at a step reproduces the data order exactly. With ``focus``, the first round(batch * focus_frac) windows
    are instead placed so that a uniformly chosen focus token, at a random occurrence, is one of the T targets at a
    uniformly random offset (drawn after the plain windows, so runs without focus are unchanged).

    Two runs with the same seed, batch and T therefore draw the same plain window at the same (step, rank, index),
    and the same focus window there when their focus lists are the same (``window_reuse.py``)."""
    g = np.random.Generator(np.random.PCG64([seed, step, rank]))
    starts = g.integers(0, n_tokens - T - 1, size=batch)
    if focus:
        for i in range(int(round(batch * focus_frac))):
            positions = focus[int(g.integers(len(focus)))]
            p = int(positions[int(g.integers(len(positions)))])
            starts[i] = min(max(p - int(g.integers(1, T + 1)), 0), n_tokens - T - 1)
    return starts


def get_batch(tokens: np.ndarray, batch: int, T: int, seed: int, step: int, rank: int, device,
              focus: list[np.ndarray] | None = None, focus_frac: float = 0.0):
    """Inputs and targets of the windows ``window_starts`` places for (seed, step, rank)."""
    return windows_at(tokens, window_starts(len(tokens), batch, T, seed, step, rank, focus, focus_frac), T, device)


def windows_at(tokens: np.ndarray, starts, T: int, device="cpu"):
    """Inputs and targets of the windows of T+1 tokens that begin at `starts`."""
    x = torch.from_numpy(np.stack([np.asarray(tokens[s:s + T + 1], dtype=np.int64) for s in starts])).to(device)
    return x[:, :-1], x[:, 1:]


def eval_batches(tokens: np.ndarray, n: int, batch: int, T: int, device):
    """Fixed, evenly spaced validation windows."""
    total = n * batch
    stride = max(1, (len(tokens) - T - 1) // total)
    out = []
    for b in range(n):
        out.append(windows_at(tokens, [(b * batch + i) * stride for i in range(batch)], T, device))
    return out
