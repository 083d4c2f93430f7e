"""One released viz_data.pt -> tasks/<task>.json + circuits/<task>.json, with the checks that tie them to the release.

Loss scales. The release sums the two prompts' losses of a contrast pair, so every stored loss (loss, interv_loss,
ch_interv_losses, layer_interv_losses, all_loss) is twice the per-prompt loss we store. OpenAI's viz.py shows a
layer's "ablation delta" as layer_interv_losses[l] - interv_loss / 2, halving one side only; here both are halved,
(layer_interv_losses[l] - interv_loss) / 2, and each layer's loss is recomputed to check that reading (why:
docs/openai-import.md, "Losses").
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Tuple

import torch

from model import GPT, Hooks, hook_sites
from model_folder import sha256_file, write_json

from .common import COMMAND, OpenAIImportError, progress, rel_path, shape_str
from .evaluate_edges import (ablation_interventions, circuit_edges, keep_only, logit_diffs, site_masks, task_loss,
                             task_metrics)
from .viz_read import (as_float, jsonable, prompts_of, read_task_samples, read_viz, resolve_targets,
                       sample_hypotheses)

TARGET_LOSS = 0.15  # the paper's pruning target, per-prompt scale (docs/circuits.md)
MAX_LISTED = 10  # problems listed by name in a check; the rest are counted


def choose_reading(model: GPT, hyps, stored_loss: Optional[float]):
    """The reading of task_samples whose full-model loss (x2) is closest to the stored loss -> (name, pairs,
    reason, [(name, per-prompt loss)])."""
    scored = [(name, pairs, task_loss(model, prompts_of(pairs))) for name, pairs in hyps]
    if stored_loss is not None:
        best, reason = min(scored, key=lambda s: abs(2 * s[2] - stored_loss)), "closest to the stored full-model loss"
    else:
        best, reason = min(scored, key=lambda s: s[2]), "no stored loss: the lowest full-model loss"
    return best[0], best[1], reason, [(n, l) for n, _, l in scored]


def node_scores(imp, kept_order: Dict[str, List[int]], stored_interv: Optional[float], src: str):
    """{(site, channel): (ch_interv_loss - interv_loss) / 2}: the per-prompt loss increase when the node is also
    ablated. ch_interv_losses lists are aligned with circuit_data's own (unsorted) order."""
    ch_losses = imp.get("ch_interv_losses") if isinstance(imp, dict) else None
    out: Dict[Tuple[str, int], float] = {}
    if not isinstance(ch_losses, dict) or stored_interv is None:
        return out
    for loc, chans in kept_order.items():
        vals = ch_losses.get(loc)
        if vals is None:
            continue
        vals = [float(v) for v in (vals.reshape(-1) if torch.is_tensor(vals) else vals)]
        if len(vals) != len(chans):
            raise OpenAIImportError(f"{src}: ch_interv_losses[\"{loc}\"] has {len(vals)} values for {len(chans)} "
                                    f"circuit channels")
        for c, v in zip(chans, vals):
            out[(loc, c)] = (v - stored_interv) / 2
    return out


@torch.no_grad()
def compare_task_sample_acts(model: GPT, tokens: torch.Tensor, stored, interventions) -> dict:
    """The stored task-sample activations (under the circuit's mean ablation) against ours on the padded rows.

    A stored tensor whose shape differs from ours ([N, T]) is listed as not compared, with both shapes: a max
    difference over nothing would read as a perfect match."""
    out = {"task_sample_acts_max_abs_diff": None, "task_sample_acts_compared": 0,
           "task_sample_acts_not_compared": []}
    if not isinstance(stored, dict) or not stored:
        return out
    rec: dict = {}
    model(tokens.to(torch.long), hooks=Hooks(rec, interventions))
    diff, skipped = None, []
    for loc, per_ch in stored.items():
        if loc not in rec or not isinstance(per_ch, dict):
            skipped.append(f"{loc}: not a site of this model" if loc not in rec else
                           f"{loc}: a {type(per_ch).__name__}, not {{channel: activations}}")
            continue
        for c, a in per_ch.items():
            ch = int(c) if isinstance(c, int) or (torch.is_tensor(c) and c.numel() == 1) else -1
            ours = rec[loc][:, :, ch] if 0 <= ch < rec[loc].shape[-1] else None
            if ours is None or not torch.is_tensor(a) or tuple(a.shape) != tuple(ours.shape):
                got = shape_str(a.shape) if torch.is_tensor(a) else type(a).__name__
                skipped.append(f"{loc}:{c}: not compared: stored {got}, ours "
                               + (shape_str(ours.shape) if ours is not None else "none (not a channel of the site)"))
                continue
            d = float((ours - a.float()).abs().max())
            diff = d if diff is None else max(diff, d)
            out["task_sample_acts_compared"] += 1
    out["task_sample_acts_max_abs_diff"] = diff
    out["task_sample_acts_not_compared"] = skipped[:MAX_LISTED] + (
        [f"... and {len(skipped) - MAX_LISTED} more"] if len(skipped) > MAX_LISTED else [])
    return out


def layer_losses(model: GPT, prompts, kept: Dict[str, List[int]], means, layers) -> Dict[str, float]:
    """Per layer key ("3.attn", "3.mlp"): the per-prompt loss with that sublayer's circuit nodes ablated as well."""
    out = {}
    for key in layers:
        less = {s: c for s, c in kept.items() if not s.startswith(f"{key}.")}
        out[key] = task_loss(model, prompts, keep_only(model.cfg, less, means))
    return out


def layer_deltas(stored_layers: Optional[dict], stored_interv: Optional[float]) -> Optional[Dict[str, float]]:
    """(layer_interv_losses[l] - interv_loss) / 2 per layer: both stored values are x2, so both are halved (viz.py
    subtracts interv_loss / 2 from the unhalved layer loss; a layer without circuit nodes would then show a delta of
    interv_loss / 2 instead of 0)."""
    if not isinstance(stored_layers, dict) or stored_interv is None:
        return None
    return {str(k): (float(v) - stored_interv) / 2 for k, v in stored_layers.items()}


def _rel(a: float, b: Optional[float]) -> Optional[float]:
    return None if b is None else abs(a - b) / max(abs(b), 1e-12)


def import_viz(model: GPT, enc, means: dict, viz_path: str, task: str, model_id: str, out: str,
               targets_spec=None, layout: str = "auto") -> dict:
    """One viz_data.pt -> tasks/<task>.json + circuits/<task>.json. Returns a summary with the checks."""
    cfg = model.cfg
    progress(f"viz {task}: loading {viz_path}")
    viz, imp, kept_order, cd_extra = read_viz(viz_path, cfg)
    kept = {s: sorted(c) for s, c in kept_order.items()}
    k = sum(len(c) for c in kept.values())
    tokens, stored_acts, rows = read_task_samples(imp, cfg, viz_path)
    targets, tsrc = resolve_targets(enc, task, targets_spec)
    hyps = sample_hypotheses(rows, targets, layout)
    if not hyps:
        raise OpenAIImportError(f"{viz_path}: cannot tell the target tokens of task \"{task}\": pass --targets "
                                f"'{task}=[\"<correct of class 1>\", \"<correct of class 2>\"]' (strings or token ids)")
    stored_loss, stored_interv = as_float(imp.get("loss")), as_float(imp.get("interv_loss"))
    hname, pairs, reason, scored = choose_reading(model, hyps, stored_loss)
    progress(f"viz {task}: sample reading {hname} ({reason}); candidates: "
             + ", ".join(f"{n} 2x{l:.5f}" for n, l in scored)
             + (f"; stored loss {stored_loss:.5f}" if stored_loss is not None else ""))
    prompts = prompts_of(pairs)

    circ_iv = keep_only(cfg, kept, means)
    full_l, full_a = task_metrics(logit_diffs(model, prompts))
    circ_l, circ_a = task_metrics(logit_diffs(model, prompts, circ_iv))
    abl_iv = ablation_interventions(site_masks(cfg, kept, False), means)  # the circuit's own nodes ablated
    abl_l, abl_a = task_metrics(logit_diffs(model, prompts, abl_iv))
    zero_l = task_loss(model, prompts, keep_only(cfg, {}, means))
    total = sum(w for _, w in hook_sites(cfg))
    scores = node_scores(imp, kept_order, stored_interv, viz_path)
    nodes = [dict({"site": site, "channel": c}, **({"score": scores[(site, c)]} if (site, c) in scores else {}))
             for site, _ in hook_sites(cfg) for c in kept.get(site, [])]
    edges = circuit_edges(model, kept)
    counts = {"weight": 0, "residual": 0, "qk": 0}
    for e in edges:
        counts[e["kind"]] += 1

    stored_layers = imp.get("layer_interv_losses") if isinstance(imp, dict) else None
    ours_layers = layer_losses(model, prompts, kept, means, [str(x) for x in stored_layers]) \
        if isinstance(stored_layers, dict) else {}
    curve = []
    for item in viz.get("all_loss") or []:
        try:
            curve.append([float(item[0]), float(item[1]) / 2])
        except (TypeError, ValueError, IndexError):
            continue
    released = {
        "loss_x2": stored_loss, "interv_loss_x2": stored_interv,
        "loss": None if stored_loss is None else stored_loss / 2,
        "interv_loss": None if stored_interv is None else stored_interv / 2,
        "layer_interv_losses": ({str(a): float(b) / 2 for a, b in stored_layers.items()}
                                if isinstance(stored_layers, dict) else None),
        "layer_ablation_delta": layer_deltas(stored_layers, stored_interv),
        "num_total_nodes": int(viz["num_total_nodes"]) if "num_total_nodes" in viz else None,
        "prune_config": jsonable(viz.get("prune_config", cd_extra.get("prune_config"))),
    }
    layer_rel = [_rel(ours_layers[key], half) for key, half in (released["layer_interv_losses"] or {}).items()]
    checks = {
        "circuit_loss_vs_stored_interv_loss_rel": _rel(2 * circ_l, stored_interv),
        "full_model_loss_vs_stored_loss_rel": _rel(2 * full_l, stored_loss),
        "layer_interv_losses_vs_ours_max_rel": max(layer_rel) if layer_rel else None,
        **compare_task_sample_acts(model, tokens, stored_acts, circ_iv),
        "num_total_nodes_matches": (None if released["num_total_nodes"] is None
                                    else released["num_total_nodes"] == total),
    }
    for line in checks["task_sample_acts_not_compared"]:
        progress(f"WARNING viz {task}: task-sample activations {line}")
    src_rel, sha = rel_path(viz_path), sha256_file(viz_path)
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
                                   "layer_interv_losses/all_loss are per contrast pair (x2) and are halved",
                         "node_score": "(released ch_interv_loss - interv_loss) / 2: the per-prompt loss increase "
                                       "when the node is also ablated (not a mask parameter)",
                         "layer_ablation_delta": "(released layer_interv_loss - interv_loss) / 2 (viz.py shows "
                                                 "layer_interv_loss - interv_loss / 2; see docs/openai-import.md)",
                         "pruning_curve": "released all_loss: [round, loss / 2]"},
        "total_nodes": total, "edge_counts": counts,
        "train_circuit_loss": circ_l, "reached_target": circ_l <= TARGET_LOSS,
        "test_pairs": len(pairs), "train_pairs": len(pairs), "backend": f"torch-cpu ({COMMAND})",
    }
    _write_task_files(out, task, enc, pairs, src_rel, sha, hname, reason, scored, tsrc, circuit)
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


def _write_task_files(out, task, enc, pairs, src_rel, sha, hname, reason, scored, tsrc, circuit) -> None:
    def prompt_json(p):
        return {"text": enc.decode(p["tokens"]) or " ", "tokens": p["tokens"], "correct": p["correct"],
                "alternative": p["alternative"]}
    n = len(pairs)
    both = [{"a": prompt_json(a), "b": prompt_json(b), "source": f"{src_rel} rows {i} and {i + n}"}
            for i, (a, b) in enumerate(pairs)]
    task_file = {
        "task": task,
        "description": f"Imported from OpenAI's released circuit-sparsity viz data ({src_rel}): a = class 1 rows "
                       f"(first half of task_samples), b = class 2 rows (second half).",
        "target_tokens": [enc.decode([pairs[0][0]["correct"]]), enc.decode([pairs[0][1]["correct"]])],
        "train": both, "test": both,
        "provenance": {"command": COMMAND, "imported_from": src_rel, "viz_data_sha256": sha,
                       "sample_reading": hname, "sample_reading_reason": reason,
                       "candidates_loss_x2": {name: 2 * loss for name, loss in scored},
                       "targets_from": tsrc, "padding": "trailing token-0 padding removed",
                       "split": "none: the release stores one sample set, so train and test both hold every pair"},
    }
    for sub in ("tasks", "circuits"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    write_json(os.path.join(out, "tasks", f"{task}.json"), task_file)
    write_json(os.path.join(out, "circuits", f"{task}.json"), circuit)
