"""The tokenizer next to a released model, and the per-channel means that mean ablation needs (from the released
mean_baseline_pretrain.pt or from a corpus)."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from typing import List, Optional, Tuple

import numpy as np
import torch

from model import GPT, GPTConfig, hook_sites
from model_folder import sha256_file
from reference_runs import compute_means
from tokenizer_train import EOT, load_tiktoken

from .common import OpenAIImportError, listed, progress, rel_path, shape_str
from .safe_load import safe_torch_load


def find_tokenizer_dir(model_dir: str, given: Optional[str]) -> str:
    cands = [given] if given else [model_dir, os.path.join(model_dir, "tinypython"),
                                   os.path.join(model_dir, "..", "..", "tinypython"),
                                   os.path.join(model_dir, "..", "tinypython")]
    for c in cands:
        if c and os.path.isfile(os.path.join(c, "encoder.json")) and os.path.isfile(os.path.join(c, "vocab.bpe")):
            return os.path.normpath(c)
    raise OpenAIImportError(
        ("--tokenizer " + given + ": encoder.json and vocab.bpe not found there") if given else
        f"{model_dir}: tokenizer files (encoder.json, vocab.bpe) not found next to the model or in ../../tinypython; "
        f"pass --tokenizer DIR")


def load_tokenizer(tok_dir: str, vocab_size: int) -> Tuple[object, List[str]]:
    notes = []
    with open(os.path.join(tok_dir, "encoder.json"), encoding="utf-8") as fh:
        encoder = json.load(fh)
    try:
        enc = load_tiktoken(tok_dir)
    except AssertionError:
        raise OpenAIImportError(f"{tok_dir}: encoder.json does not match vocab.bpe (the data-gym files disagree)") from None
    n_ranks = enc.n_vocab - 1
    if EOT in encoder and encoder[EOT] != n_ranks:
        raise OpenAIImportError(f"{tok_dir}/encoder.json: {EOT} has id {encoder[EOT]}, expected {n_ranks} "
                                f"(right after the {n_ranks} BPE tokens)")
    if n_ranks + 1 > vocab_size:
        raise OpenAIImportError(f"{tok_dir}: the tokenizer has {n_ranks + 1} ids but the model's vocab_size is {vocab_size}")
    if n_ranks + 1 != vocab_size:
        notes.append(f"tokenizer has {n_ranks + 1} ids, model vocab_size {vocab_size}")
    if EOT not in encoder:
        notes.append(f"encoder.json has no {EOT}; it is id {n_ranks} (vocab_size - 1 = {vocab_size - 1})")
    return enc, notes


def _load_corpus_tokens(path: str, enc) -> np.ndarray:
    if os.path.isfile(path) and path.endswith(".bin"):
        return np.memmap(path, dtype=np.uint16, mode="r")
    files = []
    if os.path.isdir(path):
        for dp, _, fns in os.walk(path):
            files += [os.path.join(dp, f) for f in fns if f.endswith((".py", ".txt"))]
        files.sort()
    elif os.path.isfile(path):
        files = [path]
    if not files:
        raise OpenAIImportError(f"--means-corpus {path}: no .py/.txt files (or a tokens .bin file) found")
    ids: List[int] = []
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            ids += enc.encode_ordinary(fh.read()) + [enc.eot_token]
    return np.asarray(ids, dtype=np.int64)


@contextlib.contextmanager
def _window_tokens(model: GPT, T: int):
    """export.compute_means reads its window length from model.cfg.block_size; shorten it for the call."""
    old = model.cfg
    model.cfg = dataclasses.replace(old, block_size=T)
    try:
        yield
    finally:
        model.cfg = old


def means_from_corpus(model: GPT, enc, path: str, n_windows: int, window: int) -> Tuple[dict, dict]:
    tokens = _load_corpus_tokens(path, enc)
    if len(tokens) and int(np.max(tokens)) >= model.cfg.vocab_size:
        raise OpenAIImportError(f"--means-corpus {path}: token id {int(np.max(tokens))} >= vocab_size {model.cfg.vocab_size}")
    T = min(window, model.cfg.block_size)
    if len(tokens) < T + 1:
        raise OpenAIImportError(f"--means-corpus {path}: {len(tokens)} tokens, fewer than one window of {T}")
    n = min(n_windows, len(tokens) - T)
    batch = 16
    done = [0]
    total = (n + batch - 1) // batch

    def tick(*_):
        done[0] += 1
        progress(f"means: batch {done[0]}/{total}")
    h = model.register_forward_hook(tick)
    try:
        with _window_tokens(model, T):
            means = compute_means(model, tokens, n_windows=n, batch=batch)
    finally:
        h.remove()
    return means, {"source": "corpus", "path": rel_path(path), "corpus_tokens": int(len(tokens)), "windows": n,
                   "window_tokens": T}


def means_from_baseline(path: str, cfg: GPTConfig) -> Tuple[dict, dict]:
    """A released mean_baseline_pretrain.pt. Its structure is unverified: accepted is {site: tensor[width]} keyed by
    our hook-site names (optionally one level down in a dict), leading singleton dims squeezed."""
    obj = safe_torch_load(path, "the mean baseline")
    sites = hook_sites(cfg)
    names = [s for s, _ in sites]

    def has_sites(d):
        return isinstance(d, dict) and any(n in d for n in names)
    if not has_sites(obj):
        inner = [v for v in obj.values() if has_sites(v)] if isinstance(obj, dict) else []
        if len(inner) != 1:
            keys = list(obj)[:10] if isinstance(obj, dict) else type(obj).__name__
            raise OpenAIImportError(f"{path}: unrecognised mean-baseline structure (top-level keys: {keys}); expected "
                                    f"{{site: tensor[width]}} with sites such as {names[0]}, {names[-1]}")
        obj = inner[0]
    missing = [n for n in names if n not in obj]
    if missing:
        raise OpenAIImportError(f"{path}: no mean for site(s) {listed(missing)}")
    means = {}
    for n, w in sites:
        t = obj[n]
        if not torch.is_tensor(t):
            t = torch.as_tensor(t)
        t = t.to(torch.float32)
        while t.dim() > 1 and t.shape[0] == 1:
            t = t[0]
        if tuple(t.shape) != (w,):
            raise OpenAIImportError(f"{path}: mean of site \"{n}\" has shape {shape_str(obj[n].shape)}, expected [{w}]"
                                    + (" (per-position means are not supported)" if t.dim() > 1 else ""))
        means[n] = t.contiguous()
    extra = sorted(str(k) for k in obj if k not in names)
    info = {"source": "mean_baseline_pretrain", "path": rel_path(path), "sha256": sha256_file(path),
            "structure": "assumed {site: tensor[width]} keyed by hook-site names (unverified on the released file)"}
    if extra:
        info["ignored_keys"] = extra[:20]
    return means, info
