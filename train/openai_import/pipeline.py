"""The whole conversion: a released model folder (and optionally its means and viz files) -> one of our model folders
(docs/model-folder.md), written with train/model_folder.py as our own exports are."""
from __future__ import annotations

import json
import os
import re
import shutil
from typing import Dict, List, Optional, Tuple

from safetensors.torch import save_file

from model_folder import (FORMAT, make_readable, param_counts, round_trip_diff, sha256_file, update_index,
                          write_json, write_model)
from reference_runs import GOLDEN_PROMPTS, golden

from .common import COMMAND, OpenAIImportError, progress, rel_path
from .tokenizer_means import find_tokenizer_dir, load_tokenizer, means_from_baseline, means_from_corpus
from .viz_import import import_viz
from .weights import load_released_model


def golden_prompt_texts(enc, n: int, max_tokens: int) -> List[str]:
    """The first prompt is all of GOLDEN_PROMPTS run together and cut to max_tokens (so a full-length prompt is
    checked, e.g. 64 tokens); the others are the individual prompts, cut the same way."""
    out = []
    for p in ["".join(GOLDEN_PROMPTS)] + GOLDEN_PROMPTS[:max(1, n) - 1]:
        ids = enc.encode_ordinary(p)
        out.append(enc.decode(ids[:max_tokens]) if len(ids) > max_tokens else p)
    return out


def parse_viz_args(items: List[str]) -> List[Tuple[str, str]]:
    """--viz [TASK=]PATH items -> (task, path); the task defaults to the blob path's viz/<model>/<task>/<sweep>/<k>/."""
    out, seen = [], {}
    for it in items or []:
        if "=" in it and not os.path.exists(it):
            task, path = it.split("=", 1)
        else:
            path = it
            parts = os.path.normpath(os.path.abspath(path)).split(os.sep)
            task = parts[-4] if len(parts) >= 4 else os.path.splitext(parts[-1])[0]
        task = task.strip()
        if not re.fullmatch(r"[a-z0-9_]+", task):
            raise OpenAIImportError(f"--viz {it}: task name \"{task}\" must match ^[a-z0-9_]+$ (use TASK=PATH)")
        if task in seen:
            raise OpenAIImportError(f"--viz: task \"{task}\" given twice ({seen[task]} and {path}); use TASK=PATH")
        seen[task] = path
        out.append((task, path))
    return out


def parse_targets(items: List[str]) -> Dict[str, list]:
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


def _means(model, enc, cfg, means_baseline, means_corpus, windows, window_tokens):
    if means_baseline:
        progress(f"means: importing {means_baseline}")
        return means_from_baseline(means_baseline, cfg)
    if means_corpus:
        progress(f"means: over {means_corpus} ({windows} windows of {min(window_tokens, cfg.block_size)} tokens)")
        return means_from_corpus(model, enc, means_corpus, windows, window_tokens)
    return None, None


def import_released(model_dir: str, model_id: str, out: str, name: Optional[str] = None,
                    tokenizer: Optional[str] = None, means_baseline: Optional[str] = None,
                    means_corpus: Optional[str] = None, means_windows: int = 128, means_window_tokens: int = 256,
                    viz: Optional[List[str]] = None, targets: Optional[List[str]] = None,
                    sample_layout: str = "auto", golden_prompts: int = 2, golden_max_tokens: int = 64,
                    drop_keys=(), ignore_config_keys=(), kind: Optional[str] = None, out_root: Optional[str] = None,
                    default: bool = False, force: bool = False) -> dict:
    """Convert; returns the model card. Every check that can refuse runs before anything is written."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", model_id):
        raise OpenAIImportError(f"--id {model_id!r}: use letters, digits, '-', '_' and '.'")
    viz_items = parse_viz_args(viz or [])
    target_map = parse_targets(targets)
    if viz_items and not (means_baseline or means_corpus):
        raise OpenAIImportError("--viz needs means for the circuits' mean ablation: pass --means-baseline "
                                "mean_baseline_pretrain.pt or --means-corpus DIR")
    if means_baseline and means_corpus:
        raise OpenAIImportError("pass either --means-baseline or --means-corpus, not both")
    if os.path.isdir(out) and os.listdir(out) and not force:
        raise OpenAIImportError(f"{out}: exists and is not empty; pass --force to overwrite")
    model_dir = os.path.normpath(model_dir)
    tok_dir = find_tokenizer_dir(model_dir, tokenizer)
    model, beeg, notes = load_released_model(model_dir, drop_keys, ignore_config_keys)
    cfg = model.cfg
    enc, tnotes = load_tokenizer(tok_dir, cfg.vocab_size)
    notes += tnotes
    for n in notes:
        progress("note: " + n)

    for sub in ("tasks", "circuits"):
        if force and os.path.isdir(os.path.join(out, sub)):
            shutil.rmtree(os.path.join(out, sub))
    config = cfg.to_dict()
    if beeg.get("tokenizer_name"):
        config["tokenizer_name"] = beeg["tokenizer_name"]
    progress("writing model.safetensors (compact sparse tensors)…")
    write_model(out, model, config, tok_dir)
    progress("checking the written folder reloads to the same model…")
    diff = round_trip_diff(out, model, enc.encode_ordinary(GOLDEN_PROMPTS[0])[:min(cfg.block_size, 64)])
    if diff > 1e-5:
        raise OpenAIImportError(f"{out}: round trip mismatch (max |logit diff| {diff})")

    means, means_info = _means(model, enc, cfg, means_baseline, means_corpus, means_windows, means_window_tokens)
    if means is not None:
        save_file(means, os.path.join(out, "means.safetensors"), metadata={"format": FORMAT})
    else:
        progress("note: no means source given: means.safetensors not written (mean ablation unavailable)")
        if os.path.exists(os.path.join(out, "means.safetensors")):
            os.remove(os.path.join(out, "means.safetensors"))

    progress(f"golden.safetensors: {golden_prompts} prompt(s) of up to {golden_max_tokens} tokens")
    gprompts = golden_prompt_texts(enc, golden_prompts, golden_max_tokens)
    gt, gmeta = golden(model, enc, gprompts, means=means)
    save_file(gt, os.path.join(out, "golden.safetensors"), metadata=dict(gmeta, format=FORMAT))

    summaries = [import_viz(model, enc, means, path, task, model_id, out, target_map.get(task), sample_layout)
                 for task, path in viz_items]
    if summaries:
        write_json(os.path.join(out, "tasks", "index.json"), {"tasks": [s["task"] for s in summaries]})

    counts = param_counts(model)
    pt_path = os.path.join(model_dir, "final_model.pt")
    card = {
        "id": model_id,
        "name": name or f"{os.path.basename(model_dir)} (OpenAI circuit-sparsity release)",
        "kind": kind or ("sparse" if counts["weight_l0_fraction"] < 0.5 else "dense"),
        "source": {
            "origin": f"OpenAI circuit-sparsity release (Gao et al. 2025), converted by {COMMAND}",
            "model_dir": rel_path(model_dir),
            "final_model_sha256": sha256_file(pt_path),
            "final_model_bytes": os.path.getsize(pt_path),
            "beeg_config_sha256": sha256_file(os.path.join(model_dir, "beeg_config.json")),
            "beeg_config": beeg,
            "tokenizer_dir": rel_path(tok_dir),
            "encoder_json_sha256": sha256_file(os.path.join(tok_dir, "encoder.json")),
            "vocab_bpe_sha256": sha256_file(os.path.join(tok_dir, "vocab.bpe")),
            "viz": [{"task": t, "path": rel_path(p), "sha256": sha256_file(p)} for t, p in viz_items],
        },
        "conversion_notes": notes,
        **counts,
        "afrac": cfg.afrac,
        "means": means_info,
        "golden": {"prompts": len(gprompts), "max_tokens": golden_max_tokens},
        "circuits": summaries,
    }
    write_json(os.path.join(out, "model-card.json"), card)
    make_readable(out)
    if out_root:
        update_index(out_root, {"id": model_id, "name": card["name"], "kind": card["kind"]}, default=default)
        progress(f"added {model_id} to {os.path.join(out_root, 'index.json')}")
    progress(f"done: {out}")
    return card
