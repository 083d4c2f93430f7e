"""Evaluating a circuit on task prompts (mean ablation through the model's hooks) and listing its edges.

The task loss is src/tasks/taskLoss.ts's and the edges are src/circuit/edges.ts's, both driven by the same data:
the edge kinds come from the site registry (src/model/registry/registry.json), so the circuits written here and the
ones the runtime extracts agree by construction (the Vitest test checks the lists are identical).
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from model import GPT, GPTConfig, Hooks, hook_sites
from site_registry import dimension, qk_edges, residual, weight_edges


def site_masks(cfg: GPTConfig, kept: Dict[str, List[int]], keep_listed: bool) -> Dict[str, torch.Tensor]:
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


def keep_only(cfg: GPTConfig, kept: Dict[str, List[int]], means: Dict[str, torch.Tensor]):
    """Interventions that mean-ablate every node outside `kept`."""
    return ablation_interventions(site_masks(cfg, kept, True), means)


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


def task_loss(model: GPT, prompts: List[dict], interventions=None) -> float:
    return task_metrics(logit_diffs(model, prompts, interventions))[0]


def _at(key: str, layer: int) -> str:
    return key.replace("{layer}", str(layer))


def circuit_edges(model: GPT, kept: Dict[str, List[int]]) -> List[dict]:
    """The edges of a circuit (docs/circuits.md "What counts as an edge"), in src/circuit/edges.ts's order: per
    layer its weight edges, then its q-k edges; then the residual edges."""
    cfg = model.cfg
    sd = model.state_dict()
    ch = lambda site: sorted(kept.get(site, []))  # noqa: E731
    edges: List[dict] = []
    for layer in range(cfg.n_layer):
        for e in weight_edges():
            W, off = sd[_at(e.weight, layer)], dimension(e.row_offset, cfg)
            ins = ch(f"{layer}.{e.source}")
            for o in ch(f"{layer}.{e.target}"):
                for i in ins:
                    w = float(W[off + o, i])
                    if w != 0:
                        edges.append({"source": f"{layer}.{e.source}:{i}", "target": f"{layer}.{e.target}:{o}",
                                      "weight": w, "kind": "weight"})
        for src, dst in qk_edges():
            ks = set(ch(f"{layer}.{dst}"))
            for q in ch(f"{layer}.{src}"):
                if q in ks:
                    edges.append({"source": f"{layer}.{src}:{q}", "target": f"{layer}.{dst}:{q}", "weight": 1,
                                  "kind": "qk"})
    # A residual channel written by one sublayer reaches every later sublayer that reads it (unless that reader's
    # norm weight zeroes the channel) and the final residual.
    sublayers, final = residual()
    subs = [(layer, s.read, s.write, _at(s.norm, layer)) for layer in range(cfg.n_layer) for s in sublayers]
    finals = set(ch(final))
    for si, (layer, _, write, _) in enumerate(subs):
        for c in ch(f"{layer}.{write}"):
            for (rl, read, _, norm) in subs[si + 1:]:
                if c in kept.get(f"{rl}.{read}", []) and (norm not in sd or float(sd[norm][c]) != 0):
                    edges.append({"source": f"{layer}.{write}:{c}", "target": f"{rl}.{read}:{c}", "weight": 1,
                                  "kind": "residual"})
            if c in finals:
                edges.append({"source": f"{layer}.{write}:{c}", "target": f"{final}:{c}", "weight": 1,
                              "kind": "residual"})
    return edges
