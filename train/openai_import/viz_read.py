"""Reading a released viz_data.pt: its circuit, its task samples and the readings they allow, and its values as JSON.

The release stores neither the target tokens nor whether a task_samples row includes its decisive token, so the
readings are hypotheses (docs/openai-import.md, "Tasks"); viz_import.py picks the one the stored loss supports.
"""
from __future__ import annotations

import math
import re
from typing import Dict, List, Optional, Tuple

import torch

from model import GPTConfig, hook_sites

from .common import OpenAIImportError, shape_str
from .viz_load import load_viz_file


# Target tokens of the released tasks that paper-notes section 5 names (folder suffixes like _beeg3 are stripped).
# Orientation (which class each belongs to) is not known and is decided by the stored full-model loss.
KNOWN_TARGETS = {
    "single_double_quote": ['"', "'"],
    "bracket_counting": ["]]\n", "]\n"],
    "while_return_true": [":", "\n"],
    "set_or_string": [".add", " +="],
    "set_or_string_fixedvarname": [".add", " +="],
}


def target_ids(enc, spec, where: str) -> List[int]:
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


def jsonable(v):
    """Released values (tensors, tuples, numbers, dicts) as JSON-safe data."""
    if torch.is_tensor(v):
        return v.item() if v.numel() == 1 else v.tolist()
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def as_float(v) -> Optional[float]:
    if v is None:
        return None
    if torch.is_tensor(v):
        return float(v.reshape(-1)[0]) if v.numel() == 1 else None
    if isinstance(v, (int, float)):
        return float(v)
    return None


def trim(row: List[int]) -> List[int]:
    n = len(row)
    while n > 0 and row[n - 1] == 0:
        n -= 1
    return row[:n]


def read_circuit_data(cd, cfg: GPTConfig, src: str) -> Tuple[Dict[str, List[int]], dict]:
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
                raise OpenAIImportError(f"{src}: circuit_data[\"{loc}\"] is a mask of shape {shape_str(v.shape)}, expected [{w}]")
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


def sample_hypotheses(rows: List[List[int]], targets: Optional[List[int]], layout: str):
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


def prompts_of(pairs):
    out = []
    for a, b in pairs:
        out += [a, b]
    return out


def read_task_samples(imp, cfg: GPTConfig, src: str):
    """importances.task_samples = (tokens [N, T], {loc: {ch: acts}}) -> (tokens, stored acts or None, rows with the
    trailing token-0 padding removed)."""
    ts = imp.get("task_samples") if isinstance(imp, dict) else None
    if ts is None:
        raise OpenAIImportError(f"{src}: importances has no task_samples")
    tokens = ts[0] if isinstance(ts, (tuple, list)) else ts
    stored_acts = ts[1] if isinstance(ts, (tuple, list)) and len(ts) > 1 else None
    if not torch.is_tensor(tokens) or tokens.dim() != 2:
        raise OpenAIImportError(f"{src}: task_samples tokens should be a [N, T] tensor, got "
                                f"{shape_str(tokens.shape) if torch.is_tensor(tokens) else type(tokens).__name__}")
    N, T = tokens.shape
    if N < 2 or N % 2:
        raise OpenAIImportError(f"{src}: task_samples has {N} rows; expected an even number (class 1 then class 2)")
    if T > cfg.block_size:
        raise OpenAIImportError(f"{src}: task_samples rows have {T} tokens, more than block_size {cfg.block_size}")
    if int(tokens.max()) >= cfg.vocab_size or int(tokens.min()) < 0:
        raise OpenAIImportError(f"{src}: task_samples hold token ids outside [0, {cfg.vocab_size})")
    rows = [trim([int(t) for t in r]) for r in tokens]
    empty = [i for i, r in enumerate(rows) if not r]
    if empty:
        raise OpenAIImportError(f"{src}: task_samples row {empty[0]} is all padding")
    return tokens, stored_acts, rows


def read_viz(path: str, cfg: GPTConfig):
    """A viz_data.pt (or .pkl, read by content) -> (viz, importances, kept channels per site in stored order,
    circuit_data's other entries)."""
    viz = load_viz_file(path, "viz data")
    if not isinstance(viz, dict) or "circuit_data" not in viz or "importances" not in viz:
        keys = list(viz)[:10] if isinstance(viz, dict) else type(viz).__name__
        raise OpenAIImportError(f"{path}: not a viz_data.pt (expected circuit_data and importances; found {keys})")
    imp = viz["importances"]
    kept_order, cd_extra = read_circuit_data(viz["circuit_data"], cfg, path)
    bmc = imp.get("beeg_model_config") if isinstance(imp, dict) else None
    if isinstance(bmc, dict):
        ours = cfg.to_dict()
        diff = [f"{a}={bmc.get(a)} (model: {ours[a]})" for a in ("n_layer", "d_model", "n_head", "d_head", "vocab_size")
                if a in bmc and bmc.get(a) != ours[a]]
        if diff:
            raise OpenAIImportError(f"{path}: made for another model: beeg_model_config has {', '.join(diff)}")
    return viz, imp, kept_order, cd_extra


def resolve_targets(enc, task: str, targets_spec) -> Tuple[Optional[List[int]], Optional[str]]:
    """(the two target token ids or None, where they came from): --targets, else the table of known tasks."""
    base = re.sub(r"_beeg\d*$", "", task)
    if targets_spec is not None:
        return target_ids(enc, targets_spec, f"--targets {task}"), "--targets"
    if base in KNOWN_TARGETS:
        return target_ids(enc, KNOWN_TARGETS[base], f"known targets of {base}"), f"paper-notes section 5 ({base})"
    return None, None
