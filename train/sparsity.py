"""Weight sparsity: which tensors are sparsified, the exact top-|w| projection with a per-neuron minimum,
and the L0 / learning-rate schedules of the paper's recipe."""
from __future__ import annotations

import math
import re
from typing import List, Tuple

import torch

# (regex on the parameter name, axis of the "neuron" whose minimum nonzeros are enforced)
#   axis 1 = per row (the neuron's inputs), axis 0 = per column (the neuron's outputs)
_NEURONWISE = [
    (re.compile(r"\.mlp\.c_fc\.weight$"), "row"),      # per MLP neuron: its inputs
    (re.compile(r"\.mlp\.c_proj\.weight$"), "col"),    # per MLP neuron: its outputs
    (re.compile(r"\.attn\.c_attn\.weight$"), "row"),   # per q/k/v channel: its inputs
    (re.compile(r"\.attn\.c_proj\.weight$"), "col"),   # per attention channel: its outputs
]


def sparsified_params(model) -> List[Tuple[str, torch.nn.Parameter]]:
    """Every >=2-D tensor (wte, wpe, lm_head, c_attn, c_fc, c_proj) and every bias; not norms, bigram, sink."""
    out, seen = [], set()
    for name, p in model.named_parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        name = name.replace("module.", "", 1) if name.startswith("module.") else name
        if name == "bigram_table" or name.endswith("sink_logit"):
            continue
        if p.dim() >= 2 or name.endswith(".bias"):
            out.append((name, p))
    return out


# The token embedding and unembedding: --embed-l0 gives them their own kept fraction, as the paper's recipe does
# (e.g. 1/16 for these against 1/64 for the matrices), since at one fraction for all a narrow model keeps only a
# handful of weights per token row.
EMBEDDINGS = ("transformer.wte.weight", "lm_head.weight")


def neuron_axis(name: str):
    for rx, axis in _NEURONWISE:
        if rx.search(name):
            return axis
    return None


@torch.no_grad()
def topk_mask(w: torch.Tensor, k: int, axis=None, min_per_neuron: int = 4) -> torch.Tensor:
    """Boolean mask keeping exactly k entries of w: the largest |w|, after force-keeping the top
    ``min_per_neuron`` |w| of every row (axis='row') or column (axis='col')."""
    n = w.numel()
    k = max(0, min(int(k), n))
    if k >= n:
        return torch.ones_like(w, dtype=torch.bool)
    score = w.abs().float().clone()
    if axis is not None and min_per_neuron > 0 and w.dim() == 2:
        s2 = score if axis == "row" else score.t()
        j = min(min_per_neuron, s2.shape[1])
        idx = s2.topk(j, dim=1).indices
        s2.scatter_(1, idx, 1e10)  # writes through (s2 is score or a view of it)
    flat = score.reshape(-1)
    keep = flat.topk(k, sorted=False).indices
    mask = torch.zeros(n, dtype=torch.bool, device=w.device)
    mask[keep] = True
    return mask.view_as(w)


@torch.no_grad()
def project_(model, frac: float, min_per_neuron: int = 4, embed_frac: float | None = None):
    """Zero all but the top int(frac*numel) |w| in every sparsified tensor (in place); the token embedding and
    unembedding keep int(embed_frac*numel) instead when embed_frac is given. Returns {name: k}."""
    ks = {}
    for name, p in sparsified_params(model):
        k = int((embed_frac if embed_frac is not None and name in EMBEDDINGS else frac) * p.numel())
        if min_per_neuron and neuron_axis(name):
            # never ask for fewer than the forced minimum
            rows = p.shape[0] if neuron_axis(name) == "row" else p.shape[1]
            k = max(k, min(rows * min_per_neuron, p.numel()))
        k = max(k, 1)
        if k < p.numel():
            p.mul_(topk_mask(p, k, neuron_axis(name), min_per_neuron).to(p.dtype))
        ks[name] = k
    return ks


def l0_frac(step: int, total: int, target: float, start_frac: float = 0.01, end_frac: float = 0.5) -> float:
    """Linear anneal of the kept fraction from dense (1) to target between start_frac*T and end_frac*T."""
    a, b = start_frac * total, end_frac * total
    if b <= a:  # no anneal (a continuation of an already sparse model): the target from step a on
        return target if step >= a else 1.0
    t = min(1.0, max(0.0, (step - a) / max(b - a, 1e-9)))
    return 1.0 + (target - 1.0) * t


def embed_l0_frac(step: int, total: int, embed_l0: float | None, start_frac: float, end_frac: float,
                  dense: bool = False) -> float | None:
    """The token embedding's and unembedding's kept fraction at a step, on the matrices' anneal; None where they
    follow the matrices' fraction (no --embed-l0) or nothing is sparsified (a dense run)."""
    if dense or embed_l0 is None:
        return None
    return l0_frac(step, total, embed_l0, start_frac, end_frac)


def lr_at(step: int, total: int, lr: float, warmup_frac: float = 0.01) -> float:
    """Linear warmup over warmup_frac*T steps, then linear decay to 0 at T."""
    w = warmup_frac * total
    if step < w:
        return lr * (step + 1) / w
    return lr * max(0.0, min(1.0, 1.0 - (step - w) / max(total - w, 1e-9)))


def sparse_lr(step: int, total: int, lr: float, target: float, warmup_frac: float = 0.01) -> float:
    """lr schedule times sqrt(L0_target / L0_now) ("LR proportional to 1/sqrt(L0)")."""
    return lr_at(step, total, lr, warmup_frac) * math.sqrt(target / l0_frac(step, total, target))
