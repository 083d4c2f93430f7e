"""Import a model released with OpenAI's circuit-sparsity work (Gao et al. 2025) into our model folder format
(docs/model-folder.md), with its released circuits (viz_data.pt) as tasks/ and circuits/ files.

Usage:
  python train/openai_import.py <released-model-dir> [--id ID] [--name NAME] [--out-root public/models | --out DIR]
      [--tokenizer DIR] [--means-baseline mean_baseline_pretrain.pt | --means-corpus DIR_OR_FILE]
      [--viz [TASK=]viz_data.pt ...] [--targets TASK=JSON ...] [--sample-layout auto|prompt|with-target]
      [--golden-prompts 2] [--golden-max-tokens 64] [--drop-key NAME ...] [--default] [--force]

<released-model-dir> holds beeg_config.json and final_model.pt (the blob layout models/<m>/). Every .pt file is
read with torch.load(weights_only=True) only (see safe_torch_load); a pickle that would import or call anything
else is refused. What is converted, and what is verified or assumed: docs/openai-import.md.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import math
import os
import pickle
import re
import shutil
import sys
import time
import types
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import export as ex  # noqa: E402
from model import GPT, LOCTYPES_ALL, GPTConfig, Hooks, hook_sites  # noqa: E402
from sparsity import sparsified_params  # noqa: E402
from tokenizer_train import EOT, load_tiktoken  # noqa: E402

TARGET_LOSS = 0.15  # the paper's pruning target, per-prompt scale (docs/circuits.md)
SITE_RE = re.compile(r"^(\d+)\.(attn\.(?:act_in|q|k|v|resid_delta)|mlp\.(?:act_in|post_act|resid_delta))$|^final_resid$")


class OpenAIImportError(Exception):
    """A released file that cannot be converted faithfully; the message names the file, key or tensor."""


# ------------------------------------------------------------------------------------------------ output

_T0 = time.time()


def progress(msg: str):
    print(f"[openai-import {time.time() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def _rel(path: str) -> str:
    """Repository-relative path when inside the repository (so outputs do not depend on the checkout's location)."""
    a = os.path.abspath(path)
    try:
        r = os.path.relpath(a, ROOT)
    except ValueError:
        return a
    return a if r.startswith("..") else r.replace(os.sep, "/")


def _write_json(path: str, obj):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


# ------------------------------------------------------------------------------------------------ safe loading

def _restricted_pickle_module():
    """A pickle module whose Unpickler resolves only the globals torch's own weights_only unpickler allows.

    Used only as a fallback on torch < 2, whose weights_only unpickler lacks some plain-data opcodes (e.g. BINFLOAT
    for Python floats, which viz_data.pt files contain). The allowlist is torch's, so this admits exactly the
    objects torch.load(weights_only=True) admits on newer torch: tensors, storages, dtypes, OrderedDict, containers
    and numbers. Nothing outside the allowlist can be imported, hence nothing else can be called.
    """
    from torch import _weights_only_unpickler as wou
    allowed = wou._get_allowed_globals()

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            full = f"{module}.{name}"
            if full in allowed:
                return allowed[full]
            raise pickle.UnpicklingError(f"Unsupported class {full}")

    mod = types.ModuleType("restricted_pickle")
    mod.Unpickler = Unpickler
    mod.UnpicklingError = pickle.UnpicklingError
    mod.load = lambda f, **kw: Unpickler(f, **kw).load()
    mod.__name__ = "restricted_pickle"
    return mod


def _restricted_zip_load(path: str):
    """torch's own zip-checkpoint reader (serialization._load) driven by the restricted unpickler.

    Not torch.load(..., pickle_module=...): torch 1.13's torch.load silently replaces any pickle_module by the
    standard pickle when weights_only is False, which would run arbitrary code."""
    from torch import serialization as ts
    mod = _restricted_pickle_module()
    with open(path, "rb") as fh:
        if not ts._is_zipfile(fh):
            raise pickle.UnpicklingError("not a zip checkpoint (the legacy format is not read by the fallback)")
        with ts._open_zipfile_reader(fh) as zf:
            return ts._load(zf, "cpu", mod, encoding="utf-8")


def safe_torch_load(path: str, what: str):
    """torch.load(path, weights_only=True), refusing (with a clear message) anything that is not plain data."""
    if not os.path.isfile(path):
        raise OpenAIImportError(f"{path}: {what} not found")
    refused = (f"{path}: refused to load {what}: it is not plain tensor data. Only files that "
               f"torch.load(..., weights_only=True) accepts are imported; this one would need to import or call "
               f"code to unpickle")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        msg = str(e)
        detail = msg.split("WeightsUnpickler error:")[-1].strip() or msg  # torch's text also suggests weights_only=False
        old_torch = int(torch.__version__.split(".")[0]) < 2
        if old_torch and "Unsupported operand" in msg:
            # torch 1.x's weights_only unpickler lacks plain-data opcodes (BINFLOAT...). Same allowlist, full opcodes.
            try:
                return _restricted_zip_load(path)
            except pickle.UnpicklingError as e2:
                raise OpenAIImportError(f"{refused} ({e2}).") from None
        raise OpenAIImportError(f"{refused} ({detail}).") from None
    except (RuntimeError, EOFError, OSError) as e:
        raise OpenAIImportError(f"{path}: cannot read {what}: {e}") from None


def sha256_file(path: str) -> str:
    return ex.sha256_file(path)


# ------------------------------------------------------------------------------------------------ config

# Released beeg_config.json keys besides ours: training, kernel and bookkeeping options that do not change the
# inference forward pass, and the options convert_config checks (refusing values the runtime cannot reproduce).
KNOWN_RELEASED_KEYS = {
    "dropout", "enable_sparse_kernels", "ignore_dw_grad", "debug_nans", "pfrac", "expansion_factor",
    "expansion_factor_mlp", "debug_exact_topk", "grad_checkpointing", "sparse_matmul_impl",
    "learnable_bigram_table", "flash", "tokenizer_name", "n_embd", "afrac_approx", "rtopk", "d_pos_emb",
    "dropout_cat_pos_emb", "sinusoidal_cat_pos_emb", "bigram_table_rank", "use_tied_aux_matrix",
}
OUR_KEYS = {f.name for f in dataclasses.fields(GPTConfig)} | {"n_mlp"}
REQUIRED_KEYS = ("block_size", "vocab_size", "n_layer", "n_head", "d_head", "d_model")


def convert_config(beeg: dict, src: str = "beeg_config.json") -> Tuple[GPTConfig, List[str]]:
    """Released beeg_config.json -> (our GPTConfig, notes). Refuses options the runtime cannot reproduce."""
    if not isinstance(beeg, dict):
        raise OpenAIImportError(f"{src}: expected a JSON object, got {type(beeg).__name__}")
    notes: List[str] = []
    missing = [k for k in REQUIRED_KEYS if beeg.get(k) is None]
    if beeg.get("d_mlp") is None and beeg.get("n_mlp") is None:
        missing.append("d_mlp (or n_mlp)")
    if missing:
        raise OpenAIImportError(f"{src}: missing required key(s): {', '.join(missing)}")

    def refuse(key, why):
        raise OpenAIImportError(f"{src}: unsupported option {key}={json.dumps(beeg.get(key))}: {why}")

    if beeg.get("residual_activation_type", "identity") != "identity":
        refuse("residual_activation_type", "the runtime supports only 'identity' (no activation on the residual)")
    if beeg.get("use_tied_aux_matrix"):
        refuse("use_tied_aux_matrix", "tied auxiliary matrices are not part of the runtime's forward pass")
    if beeg.get("rtopk"):
        refuse("rtopk", "the runtime implements only AbsTopK (keep the k largest |x|)")
    if beeg.get("d_pos_emb") is not None:
        refuse("d_pos_emb", "concatenated positional embeddings are not supported (only wte + wpe)")
    if beeg.get("dropout_cat_pos_emb"):
        refuse("dropout_cat_pos_emb", "concatenated positional embeddings are not supported")
    if beeg.get("sinusoidal_cat_pos_emb"):
        refuse("sinusoidal_cat_pos_emb", "sinusoidal positional embeddings are not supported")
    if beeg.get("bigram_table_rank") is not None:
        refuse("bigram_table_rank", "a low-rank bigram table is not supported (only a dense V x V table)")
    if beeg.get("afrac_approx"):
        refuse("afrac_approx", "approximate top-k would differ from the runtime's exact AbsTopK")
    if beeg.get("activation_type", "gelu") not in ("gelu", "relu"):
        refuse("activation_type", "the runtime supports 'gelu' (exact erf) and 'relu'")
    if beeg.get("n_embd") is not None and beeg.get("n_embd") != beeg.get("d_model"):
        refuse("n_embd", f"differs from d_model={beeg.get('d_model')}")
    afrac = beeg.get("afrac")
    if afrac is not None and not (isinstance(afrac, (int, float)) and 0 < afrac <= 1):
        refuse("afrac", "must be null or in (0, 1]")
    locs = [s.strip() for s in str(beeg.get("afrac_loctypes", "attn_in,attn_out,mlp_in,mlp_out")).split(",") if s.strip()]
    bad = [s for s in locs if s not in LOCTYPES_ALL]
    if bad and afrac is not None and afrac < 1:
        refuse("afrac_loctypes", f"unknown AbsTopK location(s) {', '.join(bad)} (supported: {', '.join(LOCTYPES_ALL)})")
    if beeg.get("sink") and beeg.get("flash") is False:
        notes.append("flash=false with sink=true: the released non-flash path ignores the sink; the sink is applied "
                     "here as in the flash path the release asserts for sink models")
    if beeg.get("debug_exact_topk") is False:
        notes.append("debug_exact_topk=false: training may have used an approximate top-k; inference here is exact")
    d = dict(beeg)
    if d.get("d_mlp") is None and d.get("n_mlp") is not None:
        d["d_mlp"] = d.pop("n_mlp")
        notes.append("n_mlp renamed to d_mlp")
    d.pop("n_mlp", None)
    if "sink" not in beeg:
        d["sink"] = False
        notes.append("sink missing: defaulted to false")
    unknown = sorted(k for k in beeg if k not in OUR_KEYS and k not in KNOWN_RELEASED_KEYS)
    if unknown:
        notes.append("ignored unknown config keys: " + ", ".join(unknown))
    if d.get("tokenizer_name") is None:
        d.pop("tokenizer_name", None)
    cfg = GPTConfig.from_dict(d)
    if afrac is None or afrac >= 1:
        cfg = dataclasses.replace(cfg, afrac=None)
    return cfg, notes


# ------------------------------------------------------------------------------------------------ weights

_PREFIXES = ("_orig_mod.", "module.")


def _shape(t) -> str:
    return "[" + ",".join(str(int(s)) for s in t) + "]"


def normalize_state(raw, cfg: GPTConfig, expected: Dict[str, torch.Size], src: str,
                    drop_keys=()) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """The released state dict -> tensors that load strictly into GPT(cfg); refuses what would change the model."""
    notes: List[str] = []
    if not isinstance(raw, dict):
        raise OpenAIImportError(f"{src}: expected a state dict (a mapping of names to tensors), got {type(raw).__name__}")
    if not any(torch.is_tensor(v) for v in raw.values()):
        nested = [k for k in ("model", "state_dict") if isinstance(raw.get(k), dict)]
        if not nested:
            raise OpenAIImportError(f"{src}: holds no tensors at top level (keys: {', '.join(map(str, list(raw)[:8]))})")
        notes.append(f"state dict taken from key '{nested[0]}'")
        raw = raw[nested[0]]
    state: Dict[str, torch.Tensor] = {}
    dtypes: Dict[str, int] = {}
    for k, v in raw.items():
        name = str(k)
        for p in _PREFIXES:
            if name.startswith(p):
                name = name[len(p):]
        if name in drop_keys:
            notes.append(f"dropped tensor {name} (--drop-key)")
            continue
        if not torch.is_tensor(v):
            raise OpenAIImportError(f"{src}: entry \"{name}\" is a {type(v).__name__}, not a tensor")
        if v.layout != torch.strided:
            v = v.to_dense()
        dtypes[str(v.dtype).replace("torch.", "")] = dtypes.get(str(v.dtype).replace("torch.", ""), 0) + 1
        if not v.is_floating_point():
            raise OpenAIImportError(f"{src}: tensor \"{name}\" has dtype {v.dtype}; expected a floating-point tensor")
        state[name] = v
    unexpected = sorted(k for k in state if k not in expected)
    if unexpected:
        shown = ", ".join(unexpected[:8]) + (f" and {len(unexpected) - 8} more" if len(unexpected) > 8 else "")
        raise OpenAIImportError(
            f"{src}: tensor(s) the configured architecture does not use: {shown}. They may change the forward pass, so "
            f"the import stops; pass --drop-key NAME for each one known to be harmless")
    if "final_logits_bias" not in state:
        state["final_logits_bias"] = torch.zeros(cfg.vocab_size)
        notes.append("final_logits_bias missing: zeros")
    if cfg.tied_unembed and "lm_head.weight" not in state and "transformer.wte.weight" in state:
        state["lm_head.weight"] = state["transformer.wte.weight"]
    missing = sorted(k for k in expected if k not in state)
    if missing:
        raise OpenAIImportError(f"{src}: missing tensor(s) the config needs: {', '.join(missing[:8])}"
                                + (f" and {len(missing) - 8} more" if len(missing) > 8 else ""))
    for k, want in expected.items():
        got = state[k].shape
        if tuple(got) != tuple(want):
            raise OpenAIImportError(f"{src}: tensor \"{k}\" has shape {_shape(got)}, expected {_shape(want)} "
                                    f"(from beeg_config.json: n_layer={cfg.n_layer}, d_model={cfg.d_model}, "
                                    f"n_head={cfg.n_head}, d_head={cfg.d_head}, d_mlp={cfg.d_mlp}, "
                                    f"vocab_size={cfg.vocab_size}, block_size={cfg.block_size})")
    for k, v in state.items():
        v = v.to(torch.float32)
        if not bool(torch.isfinite(v).all()):
            bad = int((~torch.isfinite(v)).reshape(-1).nonzero()[0])
            raise OpenAIImportError(f"{src}: tensor \"{k}\" has a non-finite value at flat index {bad}")
        state[k] = v
    if set(dtypes) - {"float32"}:
        notes.append(f"checkpoint dtypes {dtypes}: widened to float32")
    return state, notes


def load_released_model(model_dir: str, drop_keys=()) -> Tuple[GPT, dict, List[str]]:
    cfg_path = os.path.join(model_dir, "beeg_config.json")
    pt_path = os.path.join(model_dir, "final_model.pt")
    if not os.path.isfile(cfg_path):
        raise OpenAIImportError(f"{cfg_path}: not found (a released model folder holds beeg_config.json and final_model.pt)")
    with open(cfg_path, encoding="utf-8") as fh:
        try:
            beeg = json.load(fh)
        except json.JSONDecodeError as e:
            raise OpenAIImportError(f"{cfg_path}: not valid JSON ({e})") from None
    cfg, notes = convert_config(beeg, cfg_path)
    progress(f"config: {cfg.n_layer} layers, d_model {cfg.d_model}, {cfg.n_head}x{cfg.d_head} heads, d_mlp {cfg.d_mlp}, "
             f"vocab {cfg.vocab_size}, afrac {cfg.afrac}, sink {cfg.sink}, bigram {cfg.enable_bigram_table}")
    progress(f"loading {pt_path} ({os.path.getsize(pt_path) / 1e6:.1f} MB) with torch.load(weights_only=True)…"
             if os.path.isfile(pt_path) else f"loading {pt_path}…")
    raw = safe_torch_load(pt_path, "the checkpoint")
    model = GPT(cfg)
    expected = {k: v.shape for k, v in model.state_dict().items()}
    state, more = normalize_state(raw, cfg, expected, pt_path, drop_keys)
    del raw
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, beeg, notes + more


# ------------------------------------------------------------------------------------------------ tokenizer

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


# ------------------------------------------------------------------------------------------------ means

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
            means = ex.compute_means(model, tokens, n_windows=n, batch=batch)
    finally:
        h.remove()
    return means, {"source": "corpus", "path": _rel(path), "corpus_tokens": int(len(tokens)), "windows": n,
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
        raise OpenAIImportError(f"{path}: no mean for site(s) {', '.join(missing[:8])}"
                                + (f" and {len(missing) - 8} more" if len(missing) > 8 else ""))
    means = {}
    for n, w in sites:
        t = obj[n]
        if not torch.is_tensor(t):
            t = torch.as_tensor(t)
        t = t.to(torch.float32)
        while t.dim() > 1 and t.shape[0] == 1:
            t = t[0]
        if tuple(t.shape) != (w,):
            raise OpenAIImportError(f"{path}: mean of site \"{n}\" has shape {_shape(obj[n].shape)}, expected [{w}]"
                                    + (" (per-position means are not supported)" if t.dim() > 1 else ""))
        means[n] = t.contiguous()
    extra = sorted(str(k) for k in obj if k not in names)
    info = {"source": "mean_baseline_pretrain", "path": _rel(path), "sha256": sha256_file(path),
            "structure": "assumed {site: tensor[width]} keyed by hook-site names (unverified on the released file)"}
    if extra:
        info["ignored_keys"] = extra[:20]
    return means, info


# ------------------------------------------------------------------------------------------------ circuits

def _site_masks(cfg: GPTConfig, kept: Dict[str, List[int]], keep_listed: bool) -> Dict[str, torch.Tensor]:
    """1 = keep, 0 = ablate, per site. keep_listed: the circuit (others ablated); else its complement."""
    out = {}
    for name, w in hook_sites(cfg):
        m = torch.zeros(w) if keep_listed else torch.ones(w)
        idx = kept.get(name, [])
        if idx:
            m[torch.tensor(idx, dtype=torch.long)] = 1.0 if keep_listed else 0.0
        out[name] = m
    return out


def ablation_interventions(masks: Dict[str, torch.Tensor], fill: Dict[str, torch.Tensor]):
    """Hooks interventions x*m + fill*(1-m) at every site whose mask is not all ones (docs/model-folder.md)."""
    out = {}
    for name, m in masks.items():
        if bool((m == 1).all()):
            continue
        f = fill[name]
        out[name] = (lambda m_, f_: (lambda x: x * m_ + f_ * (1 - m_)))(m, f)
    return out


@torch.no_grad()
def logit_diffs(model: GPT, prompts: List[dict], interventions=None, batch: int = 32) -> np.ndarray:
    """l_correct - l_alternative at each prompt's last position (float64 from float32 logits)."""
    out = np.zeros(len(prompts), dtype=np.float64)
    by_len: Dict[int, List[int]] = {}
    for i, p in enumerate(prompts):
        by_len.setdefault(len(p["tokens"]), []).append(i)
    for _, idxs in sorted(by_len.items()):
        for s in range(0, len(idxs), batch):
            chunk = idxs[s:s + batch]
            x = torch.tensor([prompts[i]["tokens"] for i in chunk], dtype=torch.long)
            lg = model(x, hooks=Hooks(None, interventions or {}))[:, -1, :].double()
            for j, i in enumerate(chunk):
                out[i] = float(lg[j, prompts[i]["correct"]] - lg[j, prompts[i]["alternative"]])
    return out


def task_metrics(d: np.ndarray) -> Tuple[float, float]:
    """(mean per-prompt loss softplus(-d), accuracy d > 0), as src/tasks/taskLoss.ts."""
    d = torch.as_tensor(d, dtype=torch.float64)
    return float(F.softplus(-d).mean()), float((d > 0).double().mean())


def circuit_edges(model: GPT, kept: Dict[str, List[int]]) -> List[dict]:
    """The edges of a circuit, exactly as src/circuit/edges.ts (docs/circuits.md "What counts as an edge")."""
    cfg = model.cfg
    sd = model.state_dict()
    Q = cfg.n_head * cfg.d_head
    ch = lambda site: sorted(kept.get(site, []))  # noqa: E731
    edges: List[dict] = []

    def weight_edges(layer, key, src, dst, row_offset=0):
        W = sd[key]
        ins = ch(f"{layer}.{src}")
        for o in ch(f"{layer}.{dst}"):
            for i in ins:
                w = float(W[row_offset + o, i])
                if w != 0:
                    edges.append({"source": f"{layer}.{src}:{i}", "target": f"{layer}.{dst}:{o}", "weight": w,
                                  "kind": "weight"})
    for l in range(cfg.n_layer):
        p = f"transformer.h.{l}"
        weight_edges(l, f"{p}.attn.c_attn.weight", "attn.act_in", "attn.q", 0)
        weight_edges(l, f"{p}.attn.c_attn.weight", "attn.act_in", "attn.k", Q)
        weight_edges(l, f"{p}.attn.c_attn.weight", "attn.act_in", "attn.v", 2 * Q)
        weight_edges(l, f"{p}.attn.c_proj.weight", "attn.v", "attn.resid_delta")
        weight_edges(l, f"{p}.mlp.c_fc.weight", "mlp.act_in", "mlp.post_act")
        weight_edges(l, f"{p}.mlp.c_proj.weight", "mlp.post_act", "mlp.resid_delta")
        ks = set(ch(f"{l}.attn.k"))
        for q in ch(f"{l}.attn.q"):
            if q in ks:
                edges.append({"source": f"{l}.attn.q:{q}", "target": f"{l}.attn.k:{q}", "weight": 1, "kind": "qk"})
    subs = []
    for l in range(cfg.n_layer):
        subs.append((l, "attn.act_in", "attn.resid_delta", f"transformer.h.{l}.ln_1.weight"))
        subs.append((l, "mlp.act_in", "mlp.resid_delta", f"transformer.h.{l}.ln_2.weight"))
    final = set(ch("final_resid"))
    for si, (l, _, write, _) in enumerate(subs):
        for c in ch(f"{l}.{write}"):
            for (rl, read, _, norm) in subs[si + 1:]:
                if c in kept.get(f"{rl}.{read}", []) and (norm not in sd or float(sd[norm][c]) != 0):
                    edges.append({"source": f"{l}.{write}:{c}", "target": f"{rl}.{read}:{c}", "weight": 1,
                                  "kind": "residual"})
            if c in final:
                edges.append({"source": f"{l}.{write}:{c}", "target": f"final_resid:{c}", "weight": 1,
                              "kind": "residual"})
    return edges


# Target tokens of the released tasks that paper-notes section 5 names (folder suffixes like _beeg3 are stripped).
# Orientation (which class each belongs to) is not known and is decided by the stored full-model loss.
KNOWN_TARGETS = {
    "single_double_quote": ['"', "'"],
    "bracket_counting": ["]]\n", "]\n"],
    "while_return_true": [":", "\n"],
    "set_or_string": [".add", " +="],
    "set_or_string_fixedvarname": [".add", " +="],
}


def _target_ids(enc, spec, where: str) -> List[int]:
    ids = []
    for s in spec:
        if isinstance(s, int):
            ids.append(s)
        else:
            toks = enc.encode_ordinary(str(s))
            if not toks:
                raise OpenAIImportError(f"{where}: target {s!r} encodes to no token")
            ids.append(toks[0])  # as the release does: enc.encode(s)[0]
    if len(ids) != 2 or ids[0] == ids[1]:
        raise OpenAIImportError(f"{where}: needs two different target tokens, got ids {ids}")
    return ids


def _jsonable(v):
    """Released values (tensors, tuples, numbers, dicts) as JSON-safe data."""
    if torch.is_tensor(v):
        return v.item() if v.numel() == 1 else v.tolist()
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def _as_float(v) -> Optional[float]:
    if v is None:
        return None
    if torch.is_tensor(v):
        return float(v.reshape(-1)[0]) if v.numel() == 1 else None
    if isinstance(v, (int, float)):
        return float(v)
    return None


def _trim(row: List[int]) -> List[int]:
    n = len(row)
    while n > 0 and row[n - 1] == 0:
        n -= 1
    return row[:n]


def _read_circuit_data(cd, cfg: GPTConfig, src: str) -> Tuple[Dict[str, List[int]], dict]:
    """circuit_data {loc: LongTensor of kept channels | bool mask} -> {site: channels in stored order}."""
    if not isinstance(cd, dict):
        raise OpenAIImportError(f"{src}: circuit_data is a {type(cd).__name__}, expected a dict")
    widths = dict(hook_sites(cfg))
    kept, extra = {}, {}
    for loc, v in cd.items():
        if not torch.is_tensor(v):
            extra[str(loc)] = v
            continue
        if loc not in widths:
            raise OpenAIImportError(f"{src}: circuit_data location \"{loc}\" is not a node site of this model "
                                    f"(sites: {hook_sites(cfg)[0][0]} ... final_resid)")
        w = widths[loc]
        if v.dtype == torch.bool:
            if v.numel() != w:
                raise OpenAIImportError(f"{src}: circuit_data[\"{loc}\"] is a mask of shape {_shape(v.shape)}, expected [{w}]")
            chans = [int(i) for i in v.reshape(-1).nonzero().reshape(-1)]
        else:
            chans = [int(i) for i in v.reshape(-1)]
        bad = [c for c in chans if not 0 <= c < w]
        if bad:
            raise OpenAIImportError(f"{src}: circuit_data[\"{loc}\"] has channel {bad[0]} outside [0, {w})")
        if len(set(chans)) != len(chans):
            raise OpenAIImportError(f"{src}: circuit_data[\"{loc}\"] lists a channel twice")
        if chans:
            kept[loc] = chans
    return kept, extra


def _sample_hypotheses(rows: List[List[int]], targets: Optional[List[int]], layout: str):
    """Candidate (name, prompts) readings of task_samples: rows i < N/2 are class 1, row i pairs with row i + N/2.
    prompt: a row is the prompt (it ends before the decisive token); the two targets come from the task, and the
    orientation (class 1's correct token = targets[0] or targets[1]) is a hypothesis each.
    with-target: a row's last token is its correct token and the prompt is the rest; the alternative is the partner
    row's last token."""
    n = len(rows) // 2
    out = []
    if layout in ("auto", "prompt") and targets is not None:
        for o in (0, 1):
            t1, t2 = (targets[0], targets[1]) if o == 0 else (targets[1], targets[0])
            pairs = [({"tokens": rows[i], "correct": t1, "alternative": t2},
                      {"tokens": rows[i + n], "correct": t2, "alternative": t1}) for i in range(n)]
            out.append((f"prompt/class1={'first' if o == 0 else 'second'}-target", pairs))
    if layout in ("auto", "with-target"):
        ok = all(len(rows[i]) >= 2 and len(rows[i + n]) >= 2 and rows[i][-1] != rows[i + n][-1] for i in range(n))
        if ok:
            pairs = [({"tokens": rows[i][:-1], "correct": rows[i][-1], "alternative": rows[i + n][-1]},
                      {"tokens": rows[i + n][:-1], "correct": rows[i + n][-1], "alternative": rows[i][-1]})
                     for i in range(n)]
            out.append(("with-target", pairs))
        elif layout == "with-target":
            raise OpenAIImportError("--sample-layout with-target: some pair's rows do not end in two different tokens")
    return out


def _prompts(pairs):
    out = []
    for a, b in pairs:
        out += [a, b]
    return out


def import_viz(model: GPT, enc, means: dict, viz_path: str, task: str, model_id: str, out: str,
               targets_spec=None, layout: str = "auto") -> dict:
    """One viz_data.pt -> tasks/<task>.json + circuits/<task>.json. Returns a summary with the checks."""
    cfg = model.cfg
    progress(f"viz {task}: loading {viz_path}")
    viz = safe_torch_load(viz_path, "viz data")
    if not isinstance(viz, dict) or "circuit_data" not in viz or "importances" not in viz:
        keys = list(viz)[:10] if isinstance(viz, dict) else type(viz).__name__
        raise OpenAIImportError(f"{viz_path}: not a viz_data.pt (expected circuit_data and importances; found {keys})")
    imp = viz["importances"]
    kept_order, cd_extra = _read_circuit_data(viz["circuit_data"], cfg, viz_path)
    kept = {s: sorted(c) for s, c in kept_order.items()}
    k = sum(len(c) for c in kept.values())

    bmc = imp.get("beeg_model_config") if isinstance(imp, dict) else None
    if isinstance(bmc, dict):
        arch = ("n_layer", "d_model", "n_head", "d_head", "vocab_size")
        ours = cfg.to_dict()
        diff = [f"{a}={bmc.get(a)} (model: {ours[a]})" for a in arch if a in bmc and bmc.get(a) != ours[a]]
        if diff:
            raise OpenAIImportError(f"{viz_path}: made for another model: beeg_model_config has {', '.join(diff)}")

    ts = imp.get("task_samples") if isinstance(imp, dict) else None
    if ts is None:
        raise OpenAIImportError(f"{viz_path}: importances has no task_samples")
    tokens = ts[0] if isinstance(ts, (tuple, list)) else ts
    stored_acts = ts[1] if isinstance(ts, (tuple, list)) and len(ts) > 1 else None
    if not torch.is_tensor(tokens) or tokens.dim() != 2:
        raise OpenAIImportError(f"{viz_path}: task_samples tokens should be a [N, T] tensor, got "
                                f"{_shape(tokens.shape) if torch.is_tensor(tokens) else type(tokens).__name__}")
    N, T = tokens.shape
    if N < 2 or N % 2:
        raise OpenAIImportError(f"{viz_path}: task_samples has {N} rows; expected an even number (class 1 then class 2)")
    if T > cfg.block_size:
        raise OpenAIImportError(f"{viz_path}: task_samples rows have {T} tokens, more than block_size {cfg.block_size}")
    if int(tokens.max()) >= cfg.vocab_size or int(tokens.min()) < 0:
        raise OpenAIImportError(f"{viz_path}: task_samples hold token ids outside [0, {cfg.vocab_size})")
    rows = [_trim([int(t) for t in r]) for r in tokens]
    empty = [i for i, r in enumerate(rows) if not r]
    if empty:
        raise OpenAIImportError(f"{viz_path}: task_samples row {empty[0]} is all padding")

    base = re.sub(r"_beeg\d*$", "", task)
    if targets_spec is not None:
        targets = _target_ids(enc, targets_spec, f"--targets {task}")
        tsrc = "--targets"
    elif base in KNOWN_TARGETS:
        targets = _target_ids(enc, KNOWN_TARGETS[base], f"known targets of {base}")
        tsrc = f"paper-notes section 5 ({base})"
    else:
        targets, tsrc = None, None
    hyps = _sample_hypotheses(rows, targets, layout)
    if not hyps:
        raise OpenAIImportError(f"{viz_path}: cannot tell the target tokens of task \"{task}\": pass --targets "
                                f"'{task}=[\"<correct of class 1>\", \"<correct of class 2>\"]' (strings or token ids)")

    stored_loss = _as_float(imp.get("loss"))
    stored_interv = _as_float(imp.get("interv_loss"))
    scored = []
    for name, pairs in hyps:
        loss, _ = task_metrics(logit_diffs(model, _prompts(pairs)))
        scored.append((name, pairs, loss))
    if stored_loss is not None:
        best = min(scored, key=lambda s: abs(2 * s[2] - stored_loss))
        reason = "closest to the stored full-model loss"
    else:
        best = min(scored, key=lambda s: s[2])
        reason = "no stored loss: the lowest full-model loss"
    hname, pairs, _ = best
    progress(f"viz {task}: sample reading {hname} ({reason}); candidates: "
             + ", ".join(f"{n} 2x{l:.5f}" for n, _, l in scored)
             + (f"; stored loss {stored_loss:.5f}" if stored_loss is not None else ""))
    prompts = _prompts(pairs)

    full_d = logit_diffs(model, prompts)
    circ_iv = ablation_interventions(_site_masks(cfg, kept, True), means)
    circ_d = logit_diffs(model, prompts, circ_iv)
    abl_d = logit_diffs(model, prompts, ablation_interventions(_site_masks(cfg, kept, False), means))
    all_abl = ablation_interventions(_site_masks(cfg, {}, True), means)
    zero_d = logit_diffs(model, prompts, all_abl)
    full_l, full_a = task_metrics(full_d)
    circ_l, circ_a = task_metrics(circ_d)
    abl_l, abl_a = task_metrics(abl_d)
    zero_l, _ = task_metrics(zero_d)
    total = sum(w for _, w in hook_sites(cfg))

    # per-node importance: (loss with the node also ablated - circuit loss), per-prompt scale
    ch_losses = imp.get("ch_interv_losses") if isinstance(imp, dict) else None
    node_score: Dict[Tuple[str, int], float] = {}
    if isinstance(ch_losses, dict) and stored_interv is not None:
        for loc, chans in kept_order.items():
            vals = ch_losses.get(loc)
            if vals is None:
                continue
            vals = [float(v) for v in (vals.reshape(-1) if torch.is_tensor(vals) else vals)]
            if len(vals) != len(chans):
                raise OpenAIImportError(f"{viz_path}: ch_interv_losses[\"{loc}\"] has {len(vals)} values for "
                                        f"{len(chans)} circuit channels")
            for c, v in zip(chans, vals):
                node_score[(loc, c)] = (v - stored_interv) / 2
    nodes = []
    for site, _ in hook_sites(cfg):
        for c in kept.get(site, []):
            n = {"site": site, "channel": c}
            if (site, c) in node_score:
                n["score"] = node_score[(site, c)]
            nodes.append(n)
    edges = circuit_edges(model, kept)
    counts = {"weight": 0, "residual": 0, "qk": 0}
    for e in edges:
        counts[e["kind"]] += 1

    # stored task-sample activations (under the circuit's mean ablation) vs ours on the padded rows
    acts_diff = None
    if isinstance(stored_acts, dict) and stored_acts:
        rec = {}
        with torch.no_grad():
            model(tokens.to(torch.long), hooks=Hooks(rec, circ_iv))
        acts_diff = 0.0
        for loc, per_ch in stored_acts.items():
            if loc not in rec or not isinstance(per_ch, dict):
                continue
            for c, a in per_ch.items():
                if torch.is_tensor(a) and tuple(a.shape) == (N, T):
                    acts_diff = max(acts_diff, float((rec[loc][:, :, int(c)] - a.float()).abs().max()))

    all_loss = viz.get("all_loss") or []
    curve = []
    for item in all_loss:
        try:
            curve.append([float(item[0]), float(item[1]) / 2])
        except (TypeError, ValueError, IndexError):
            continue
    prune_config = viz.get("prune_config", cd_extra.get("prune_config"))
    layer_losses = imp.get("layer_interv_losses") if isinstance(imp, dict) else None
    rel = lambda a, b: None if b is None else abs(a - b) / max(abs(b), 1e-12)  # noqa: E731
    released = {
        "loss_x2": stored_loss, "interv_loss_x2": stored_interv,
        "loss": None if stored_loss is None else stored_loss / 2,
        "interv_loss": None if stored_interv is None else stored_interv / 2,
        "layer_interv_losses": {str(a): float(b) / 2 for a, b in layer_losses.items()} if isinstance(layer_losses, dict) else None,
        "num_total_nodes": int(viz["num_total_nodes"]) if "num_total_nodes" in viz else None,
        "prune_config": _jsonable(prune_config),
    }
    checks = {
        "circuit_loss_vs_stored_interv_loss_rel": rel(2 * circ_l, stored_interv),
        "full_model_loss_vs_stored_loss_rel": rel(2 * full_l, stored_loss),
        "task_sample_acts_max_abs_diff": acts_diff,
        "num_total_nodes_matches": None if released["num_total_nodes"] is None else released["num_total_nodes"] == total,
    }
    src_rel = _rel(viz_path)
    sha = sha256_file(viz_path)
    circuit = {
        "task": task, "model": model_id, "ablation": "mean", "k": k, "nodes": nodes, "edges": edges,
        "edge_count": len(edges), "target_loss": TARGET_LOSS,
        "full_model_loss": full_l, "full_model_accuracy": full_a,
        "circuit_loss": circ_l, "circuit_accuracy": circ_a,
        "ablated_loss": abl_l, "ablated_accuracy": abl_a,
        "logit_scale": 1, "logit_shift": 0,
        "loss_at_k": [[0, zero_l], [k, circ_l], [total, full_l]],
        "pruning_curve": curve,
        "prune_seconds": 0,
        "prune_config": {"imported_from": src_rel, "viz_data_sha256": sha, "sample_reading": hname,
                         "released": released, "checks": checks,
                         "scales": "losses here are per prompt; the released loss/interv_loss/ch_interv_losses/"
                                   "all_loss are per contrast pair (x2) and are halved",
                         "node_score": "(released ch_interv_loss - interv_loss) / 2: the per-prompt loss increase "
                                       "when the node is also ablated (not a mask parameter)",
                         "pruning_curve": "released all_loss: [round, loss / 2]"},
        "total_nodes": total, "edge_counts": counts,
        "train_circuit_loss": circ_l, "reached_target": circ_l <= TARGET_LOSS,
        "test_pairs": len(pairs), "train_pairs": len(pairs), "backend": "torch-cpu (openai_import.py)",
    }

    def prompt_json(p):
        return {"text": enc.decode(p["tokens"]) or " ", "tokens": p["tokens"], "correct": p["correct"],
                "alternative": p["alternative"]}
    pair_json = [{"a": prompt_json(a), "b": prompt_json(b), "source": f"{src_rel} rows {i} and {i + len(pairs)}"}
                 for i, (a, b) in enumerate(pairs)]
    disp = lambda t: enc.decode([t])  # noqa: E731
    task_file = {
        "task": task,
        "description": f"Imported from OpenAI's released circuit-sparsity viz data ({src_rel}): a = class 1 rows "
                       f"(first half of task_samples), b = class 2 rows (second half).",
        "target_tokens": [disp(pairs[0][0]["correct"]), disp(pairs[0][1]["correct"])],
        "train": pair_json, "test": pair_json,
        "provenance": {"command": "python train/openai_import.py", "imported_from": src_rel, "viz_data_sha256": sha,
                       "sample_reading": hname, "sample_reading_reason": reason,
                       "candidates_loss_x2": {n: 2 * l for n, _, l in scored},
                       "targets_from": tsrc, "padding": "trailing token-0 padding removed",
                       "split": "none: the release stores one sample set, so train and test both hold every pair"},
    }
    os.makedirs(os.path.join(out, "tasks"), exist_ok=True)
    os.makedirs(os.path.join(out, "circuits"), exist_ok=True)
    _write_json(os.path.join(out, "tasks", f"{task}.json"), task_file)
    _write_json(os.path.join(out, "circuits", f"{task}.json"), circuit)
    summary = {"task": task, "k": k, "edges": len(edges), "circuit_loss": circ_l, "full_model_loss": full_l,
               "stored_interv_loss_halved": released["interv_loss"], "stored_loss_halved": released["loss"],
               "sample_reading": hname, **checks}
    r = checks["circuit_loss_vs_stored_interv_loss_rel"]
    if r is not None and r > 1e-3:
        progress(f"WARNING viz {task}: circuit loss {circ_l:.6f} differs from the stored interv_loss/2 "
                 f"{stored_interv / 2:.6f} (relative {r:.2e})")
    progress(f"viz {task}: k={k}, {len(edges)} edges, circuit loss {circ_l:.5f} (stored "
             f"{'n/a' if stored_interv is None else f'{stored_interv / 2:.5f}'}), full {full_l:.5f}")
    return summary


# ------------------------------------------------------------------------------------------------ main flow

def _golden_prompts(enc, n: int, max_tokens: int) -> List[str]:
    """The first prompt is all of export.GOLDEN_PROMPTS run together and cut to max_tokens (so a full-length prompt
    is checked, e.g. 64 tokens); the others are the individual prompts, cut the same way."""
    out = []
    for p in ["".join(ex.GOLDEN_PROMPTS)] + ex.GOLDEN_PROMPTS[:max(1, n) - 1]:
        ids = enc.encode_ordinary(p)
        out.append(enc.decode(ids[:max_tokens]) if len(ids) > max_tokens else p)
    return out


def _parse_viz_args(items: List[str]) -> List[Tuple[str, str]]:
    out, seen = [], {}
    for it in items or []:
        if "=" in it and not os.path.exists(it):
            task, path = it.split("=", 1)
        else:
            path = it
            parts = os.path.normpath(os.path.abspath(path)).split(os.sep)
            # blob layout viz/<model>/<task>/<sweep>/<k>/viz_data.pt
            task = parts[-4] if len(parts) >= 4 else os.path.splitext(parts[-1])[0]
        task = task.strip()
        if not re.fullmatch(r"[a-z0-9_]+", task):
            raise OpenAIImportError(f"--viz {it}: task name \"{task}\" must match ^[a-z0-9_]+$ (use TASK=PATH)")
        if task in seen:
            raise OpenAIImportError(f"--viz: task \"{task}\" given twice ({seen[task]} and {path}); use TASK=PATH")
        seen[task] = path
        out.append((task, path))
    return out


def _parse_targets(items: List[str]) -> Dict[str, list]:
    out = {}
    for it in items or []:
        if "=" not in it:
            raise OpenAIImportError(f"--targets {it}: expected TASK=JSON, e.g. 'single_double_quote=[\"\\\"\", \"'\"]'")
        task, spec = it.split("=", 1)
        try:
            val = json.loads(spec)
        except json.JSONDecodeError as e:
            raise OpenAIImportError(f"--targets {it}: not JSON ({e})") from None
        if not isinstance(val, list) or len(val) != 2:
            raise OpenAIImportError(f"--targets {it}: expected a JSON array of two strings or token ids")
        out[task] = val
    return out


def import_released(model_dir: str, model_id: str, out: str, name: Optional[str] = None,
                    tokenizer: Optional[str] = None, means_baseline: Optional[str] = None,
                    means_corpus: Optional[str] = None, means_windows: int = 128, means_window_tokens: int = 256,
                    viz: Optional[List[str]] = None, targets: Optional[List[str]] = None,
                    sample_layout: str = "auto", golden_prompts: int = 2, golden_max_tokens: int = 64,
                    drop_keys=(), kind: Optional[str] = None, out_root: Optional[str] = None,
                    default: bool = False, force: bool = False) -> dict:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", model_id):
        raise OpenAIImportError(f"--id {model_id!r}: use letters, digits, '-', '_' and '.'")
    viz_items = _parse_viz_args(viz or [])
    target_map = _parse_targets(targets)
    if viz_items and not (means_baseline or means_corpus):
        raise OpenAIImportError("--viz needs means for the circuits' mean ablation: pass --means-baseline "
                                "mean_baseline_pretrain.pt or --means-corpus DIR")
    if means_baseline and means_corpus:
        raise OpenAIImportError("pass either --means-baseline or --means-corpus, not both")
    if os.path.isdir(out) and os.listdir(out) and not force:
        raise OpenAIImportError(f"{out}: exists and is not empty; pass --force to overwrite")
    model_dir = os.path.normpath(model_dir)
    tok_dir = find_tokenizer_dir(model_dir, tokenizer)
    model, beeg, notes = load_released_model(model_dir, drop_keys)
    cfg = model.cfg
    enc, tnotes = load_tokenizer(tok_dir, cfg.vocab_size)
    notes += tnotes
    for n in notes:
        progress("note: " + n)

    os.makedirs(os.path.join(out, "tokenizer"), exist_ok=True)
    for sub in ("tasks", "circuits"):
        if force and os.path.isdir(os.path.join(out, sub)):
            shutil.rmtree(os.path.join(out, sub))
    config = cfg.to_dict()
    if beeg.get("tokenizer_name"):
        config["tokenizer_name"] = beeg["tokenizer_name"]
    _write_json(os.path.join(out, "config.json"), config)
    progress("writing model.safetensors (compact sparse tensors)…")
    tensors, meta = ex.to_compact(ex.export_state(model))
    save_file(tensors, os.path.join(out, "model.safetensors"), metadata=meta)
    for fn in ("encoder.json", "vocab.bpe"):
        shutil.copyfile(os.path.join(tok_dir, fn), os.path.join(out, "tokenizer", fn))

    progress("checking the written folder reloads to the same model…")
    back = ex.load_model_folder(out)
    x = torch.tensor([enc.encode_ordinary(ex.GOLDEN_PROMPTS[0])[:min(cfg.block_size, 64)]])
    with torch.no_grad():
        diff = float((back(x) - model(x)).abs().max())
    if diff > 1e-5:
        raise OpenAIImportError(f"{out}: round trip mismatch (max |logit diff| {diff})")
    del back

    means, means_info = None, None
    if means_baseline:
        progress(f"means: importing {means_baseline}")
        means, means_info = means_from_baseline(means_baseline, cfg)
    elif means_corpus:
        progress(f"means: over {means_corpus} ({means_windows} windows of {min(means_window_tokens, cfg.block_size)} tokens)")
        means, means_info = means_from_corpus(model, enc, means_corpus, means_windows, means_window_tokens)
    if means is not None:
        save_file(means, os.path.join(out, "means.safetensors"), metadata={"format": ex.FORMAT})
    else:
        progress("note: no means source given: means.safetensors not written (mean ablation unavailable)")
        if os.path.exists(os.path.join(out, "means.safetensors")):
            os.remove(os.path.join(out, "means.safetensors"))

    progress(f"golden.safetensors: {golden_prompts} prompt(s) of up to {golden_max_tokens} tokens")
    gprompts = _golden_prompts(enc, golden_prompts, golden_max_tokens)
    gt, gmeta = ex.golden(model, enc, gprompts)
    save_file(gt, os.path.join(out, "golden.safetensors"), metadata=dict(gmeta, format=ex.FORMAT))

    summaries = []
    for task, path in viz_items:
        summaries.append(import_viz(model, enc, means, path, task, model_id, out, target_map.get(task), sample_layout))
    if summaries:
        idx_path = os.path.join(out, "tasks", "index.json")
        names = [s["task"] for s in summaries]
        _write_json(idx_path, {"tasks": names})

    sp = sparsified_params(model)
    nz_sp = sum(int((p != 0).sum()) for _, p in sp)
    tot_sp = sum(p.numel() for _, p in sp)
    allp = list({id(p): p for p in model.parameters()}.values())
    l0 = nz_sp / tot_sp
    pt_path = os.path.join(model_dir, "final_model.pt")
    card = {
        "id": model_id,
        "name": name or f"{os.path.basename(model_dir)} (OpenAI circuit-sparsity release)",
        "kind": kind or ("sparse" if l0 < 0.5 else "dense"),
        "source": {
            "origin": "OpenAI circuit-sparsity release (Gao et al. 2025), converted by train/openai_import.py",
            "model_dir": _rel(model_dir),
            "final_model_sha256": sha256_file(pt_path),
            "final_model_bytes": os.path.getsize(pt_path),
            "beeg_config_sha256": sha256_file(os.path.join(model_dir, "beeg_config.json")),
            "beeg_config": beeg,
            "tokenizer_dir": _rel(tok_dir),
            "encoder_json_sha256": sha256_file(os.path.join(tok_dir, "encoder.json")),
            "vocab_bpe_sha256": sha256_file(os.path.join(tok_dir, "vocab.bpe")),
            "viz": [{"task": t, "path": _rel(p), "sha256": sha256_file(p)} for t, p in viz_items],
        },
        "conversion_notes": notes,
        "nonzero_params": int(sum(int((p != 0).sum()) for p in allp)),
        "total_params": int(sum(p.numel() for p in allp)),
        "weight_l0_fraction": l0,
        "sparsified_nonzero": nz_sp,
        "sparsified_total": tot_sp,
        "afrac": cfg.afrac,
        "means": means_info,
        "golden": {"prompts": len(gprompts), "max_tokens": golden_max_tokens},
        "circuits": summaries,
    }
    _write_json(os.path.join(out, "model-card.json"), card)
    for dirpath, _, files in os.walk(out):
        for fn in files:
            os.chmod(os.path.join(dirpath, fn), 0o644)
    if out_root:
        ex.update_index(out_root, {"id": model_id, "name": card["name"], "kind": card["kind"]}, default=default)
        progress(f"added {model_id} to {os.path.join(out_root, 'index.json')}")
    progress(f"done: {out}")
    return card


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("released", help="released model folder (beeg_config.json + final_model.pt)")
    ap.add_argument("--id", default=None, help="model id (default: the folder's name)")
    ap.add_argument("--name", default=None)
    ap.add_argument("--out-root", default=None, help="models folder: writes <out-root>/<id>/ and updates index.json "
                                                     "(default public/models unless --out is given)")
    ap.add_argument("--out", default=None, help="write exactly this folder (no index.json update)")
    ap.add_argument("--tokenizer", default=None, help="folder with encoder.json + vocab.bpe (default: found near the model)")
    ap.add_argument("--means-baseline", default=None, help="released mean_baseline_pretrain.pt ({site: tensor[width]})")
    ap.add_argument("--means-corpus", default=None, help="folder of .py/.txt files, or a uint16 tokens .bin")
    ap.add_argument("--means-windows", type=int, default=128)
    ap.add_argument("--means-window-tokens", type=int, default=256)
    ap.add_argument("--viz", nargs="+", action="extend", default=[], help="[TASK=]viz_data.pt (task from the blob path)")
    ap.add_argument("--targets", nargs="+", action="extend", default=[], help="TASK=JSON array of two strings or ids")
    ap.add_argument("--sample-layout", choices=["auto", "prompt", "with-target"], default="auto")
    ap.add_argument("--golden-prompts", type=int, default=2)
    ap.add_argument("--golden-max-tokens", type=int, default=64)
    ap.add_argument("--drop-key", nargs="+", action="extend", default=[])
    ap.add_argument("--kind", choices=["sparse", "dense"], default=None)
    ap.add_argument("--default", action="store_true", help="make it the index's default model")
    ap.add_argument("--force", action="store_true", help="overwrite a non-empty output folder")
    a = ap.parse_args(argv)
    model_id = a.id or os.path.basename(os.path.normpath(a.released))
    out_root = a.out_root if a.out_root or a.out else os.path.join(ROOT, "public", "models")
    out = a.out or os.path.join(out_root, model_id)
    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    try:
        card = import_released(a.released, model_id, out, name=a.name, tokenizer=a.tokenizer,
                               means_baseline=a.means_baseline, means_corpus=a.means_corpus,
                               means_windows=a.means_windows, means_window_tokens=a.means_window_tokens,
                               viz=a.viz, targets=a.targets, sample_layout=a.sample_layout,
                               golden_prompts=a.golden_prompts, golden_max_tokens=a.golden_max_tokens,
                               drop_keys=tuple(a.drop_key), kind=a.kind, out_root=out_root if not a.out or a.out_root else None,
                               default=a.default, force=a.force)
    except OpenAIImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({k: card[k] for k in ("id", "kind", "nonzero_params", "weight_l0_fraction", "circuits")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
