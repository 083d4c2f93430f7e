"""The model-folder library (docs/model-folder.md): the compact sparse weight format, reading a folder back, file
hashes and public/models/index.json.

One module that every writer of model folders shares (train/export.py, train/snippets.py, the OpenAI importer,
scripts/make-bridges2-model.py), so the format lives in one place and none of them imports another's CLI.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from model import GPT, GPTConfig
from sparsity import sparsified_params

FORMAT = "sparse-circuit-explorer/1"
TOKENIZER_FILES = ("encoder.json", "vocab.bpe")


# ------------------------------------------------------------------------------------------------ compact format

def to_compact(state: dict) -> tuple[dict, dict]:
    """Released-name state dict -> (tensors, metadata) with compact sparse tensors where density < 1/2."""
    tensors, meta = {}, {"format": FORMAT}
    for k, v in state.items():
        v = v.detach().to(torch.float32).contiguous().cpu()
        nnz = int((v != 0).sum())
        if v.dim() >= 1 and v.numel() > 0 and nnz < v.numel() / 2:
            flat = v.reshape(-1)
            idx = torch.nonzero(flat, as_tuple=False).reshape(-1)
            tensors[k + ".__indices"] = idx.to(torch.int32).contiguous()
            tensors[k + ".__values"] = flat[idx].contiguous()
            meta["sparse:" + k] = json.dumps(list(v.shape))
        else:
            tensors[k] = v.clone()
    return tensors, meta


def read_model_safetensors(path: str) -> dict:
    """Read a model.safetensors (compact tensors densified) -> {name: dense tensor}."""
    out = {}
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        for k in f.keys():
            if not (k.endswith(".__indices") or k.endswith(".__values")):
                out[k] = f.get_tensor(k)
        for mk, shape in meta.items():
            if not mk.startswith("sparse:"):
                continue
            name = mk[len("sparse:"):]
            shape = json.loads(shape)
            idx = f.get_tensor(name + ".__indices").to(torch.int64)
            val = f.get_tensor(name + ".__values").to(torch.float32)
            assert bool((idx[1:] > idx[:-1]).all()), "indices must be strictly increasing"
            dense = torch.zeros(int(np.prod(shape)), dtype=torch.float32)
            dense[idx] = val
            out[name] = dense.view(shape)
    return out


def export_state(model: GPT) -> dict:
    """The state dict under the released names; a tied unembedding is written out as lm_head.weight too."""
    sd = dict(model.state_dict())
    if model.cfg.tied_unembed:
        sd["lm_head.weight"] = sd["transformer.wte.weight"].clone()
    return sd


# ------------------------------------------------------------------------------------------------ folders

def load_model_folder(folder: str) -> GPT:
    with open(os.path.join(folder, "config.json")) as fh:
        cfg = GPTConfig.from_dict(json.load(fh))
    model = GPT(cfg)
    sd = read_model_safetensors(os.path.join(folder, "model.safetensors"))
    if "final_logits_bias" not in sd:
        sd["final_logits_bias"] = torch.zeros(cfg.vocab_size)
    model.load_state_dict(sd, strict=True)
    model.eval()
    return model


def write_json(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


def write_model(out: str, model: GPT, config: dict, tok_dir: str) -> None:
    """config.json, model.safetensors (compact) and tokenizer/{encoder.json, vocab.bpe} copied byte for byte."""
    os.makedirs(os.path.join(out, "tokenizer"), exist_ok=True)
    write_json(os.path.join(out, "config.json"), config)
    tensors, meta = to_compact(export_state(model))
    save_file(tensors, os.path.join(out, "model.safetensors"), metadata=meta)
    for fn in TOKENIZER_FILES:
        shutil.copyfile(os.path.join(tok_dir, fn), os.path.join(out, "tokenizer", fn))


@torch.no_grad()
def round_trip_diff(out: str, model: GPT, ids: list) -> float:
    """Max |logit difference| between the written folder, read back, and the model it was written from."""
    back = load_model_folder(out)
    x = torch.tensor([ids], dtype=torch.long)
    return float((back(x) - model(x)).abs().max())


def make_readable(folder: str) -> None:
    """0644 on every file: the folders are served as static files and committed."""
    for dirpath, _, files in os.walk(folder):
        for fn in files:
            os.chmod(os.path.join(dirpath, fn), 0o644)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def param_counts(model: GPT) -> dict:
    """The model card's size fields: nonzeros over all parameters and over the sparsified tensors only."""
    sp = sparsified_params(model)
    nz_sp = sum(int((p != 0).sum()) for _, p in sp)
    tot_sp = sum(p.numel() for _, p in sp)
    allp = list({id(p): p for p in model.parameters()}.values())  # a tied unembedding counts once
    return {"nonzero_params": int(sum(int((p != 0).sum()) for p in allp)),
            "total_params": int(sum(p.numel() for p in allp)),
            "weight_l0_fraction": nz_sp / tot_sp, "sparsified_nonzero": nz_sp, "sparsified_total": tot_sp}


def update_index(models_dir: str, entry: dict, default: bool = False) -> None:
    """Add or replace entry (by id) in models_dir/index.json. The index's order is the page's model list, so a
    re-exported model keeps its place and a new one goes last; the default model is moved first."""
    path = os.path.join(models_dir, "index.json")
    idx = {"models": []}
    if os.path.exists(path):
        with open(path) as fh:
            idx = json.load(fh)
    models = list(idx.get("models", []))
    if default:
        for m in models:
            m.pop("default", None)
        entry = dict(entry, default=True)
    ids = [m.get("id") for m in models]
    if entry["id"] in ids:
        models[ids.index(entry["id"])] = entry
    else:
        models.append(entry)
    models.sort(key=lambda m: not m.get("default", False))  # stable: only the default moves
    idx["models"] = models
    with open(path, "w") as fh:
        json.dump(idx, fh, indent=2)
        fh.write("\n")
