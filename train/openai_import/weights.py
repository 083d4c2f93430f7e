"""final_model.pt -> tensors that load strictly into our GPT, refusing whatever could change the model."""
from __future__ import annotations

import json
import os
from typing import Dict, List, Tuple

import torch

from model import GPT, GPTConfig

from .common import OpenAIImportError, listed, progress, shape_str
from .config import convert_config
from .safe_load import safe_torch_load

_PREFIXES = ("_orig_mod.", "module.")  # torch.compile and DistributedDataParallel wrappers


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
        raise OpenAIImportError(
            f"{src}: tensor(s) the configured architecture does not use: {listed(unexpected)}. They may change the "
            f"forward pass, so the import stops; pass --drop-key NAME for each one known to be harmless")
    if "final_logits_bias" not in state:
        state["final_logits_bias"] = torch.zeros(cfg.vocab_size)
        notes.append("final_logits_bias missing: zeros")
    if cfg.tied_unembed and "lm_head.weight" not in state and "transformer.wte.weight" in state:
        state["lm_head.weight"] = state["transformer.wte.weight"]
    missing = sorted(k for k in expected if k not in state)
    if missing:
        raise OpenAIImportError(f"{src}: missing tensor(s) the config needs: {listed(missing)}")
    for k, want in expected.items():
        got = state[k].shape
        if tuple(got) != tuple(want):
            raise OpenAIImportError(f"{src}: tensor \"{k}\" has shape {shape_str(got)}, expected {shape_str(want)} "
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


def load_released_model(model_dir: str, drop_keys=(), ignore_config_keys=()) -> Tuple[GPT, dict, List[str]]:
    """A released model folder (beeg_config.json + final_model.pt) -> (our GPT, the released config, notes)."""
    cfg_path = os.path.join(model_dir, "beeg_config.json")
    pt_path = os.path.join(model_dir, "final_model.pt")
    if not os.path.isfile(cfg_path):
        raise OpenAIImportError(f"{cfg_path}: not found (a released model folder holds beeg_config.json and final_model.pt)")
    with open(cfg_path, encoding="utf-8") as fh:
        try:
            beeg = json.load(fh)
        except json.JSONDecodeError as e:
            raise OpenAIImportError(f"{cfg_path}: not valid JSON ({e})") from None
    cfg, notes = convert_config(beeg, cfg_path, ignore_config_keys)
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
