"""Node, residual-edge and q·k-edge ablation in the PyTorch model, with the runtime's definitions (docs/circuits.md,
"Ablating an edge") and its intervention JSON (src/model/interventions.ts), so that golden files can pin the runtime's
results to an implementation written separately:

- node `site:c`: the site's value (after AbsTopK) on channel c becomes its mean (mode "mean") or 0, at every position.
- residual edge writer `W:c` -> reader `R:c` (W a resid_delta site, R a later act_in site or final_resid): path
  patching. R reads its own copy of the residual stream in which the writer's contribution on channel c (its value as
  the stream received it, i.e. after W's own node ablation) is replaced by W's mean or 0, before R's norm and AbsTopK.
  The stream itself, and every other reader, is unchanged; several edges into one reader add up.
- q·k edge `L.attn.q:c` -> `L.attn.k:c`: in head c // d_head of layer L, the score term q_i[c]·k_j[c] becomes
  q_i[c]·mean(k[c]) or 0, computed here on the scores themselves (the runtime replaces k[c], which is equivalent
  because k[c] enters nothing else).

An edge listed twice counts once, with its first entry's mode. Weight edges are exact weight edits (edit the state
dict) and circuit restrictions are node ablations; neither is taken here.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

import torch

from model import GPTConfig, Hooks, hook_sites
from site_registry import qk_edges, residual, weight_edges

_NODE = re.compile(r"^(?:(\d+)\.)?([a-z_.]+):(\d+)$")


def parse_node(node: str) -> Tuple[Optional[int], str, int]:
    """"1.attn.k:3" -> (1, "attn.k", 3); "final_resid:5" -> (None, "final_resid", 5)."""
    m = _NODE.match(node)
    if not m:
        raise ValueError(f"bad node id {node!r} (expected site:channel)")
    return (int(m.group(1)) if m.group(1) is not None else None), m.group(2), int(m.group(3))


def site_of(layer: Optional[int], kind: str) -> str:
    return kind if layer is None else f"{layer}.{kind}"


def edge_kind(cfg: GPTConfig, source: str, target: str) -> str:
    """"weight", "residual" or "qk" for a pair of node ids (the registry's edge kinds, as edgeKindOf in
    src/model/registry/edgeKinds.ts); ValueError naming the pair otherwise."""
    (sl, sk, sc), (tl, tk, tc) = parse_node(source), parse_node(target)
    widths = dict(hook_sites(cfg))
    for lay, kind, ch in ((sl, sk, sc), (tl, tk, tc)):
        site = site_of(lay, kind)
        if site not in widths or ch >= widths[site]:
            raise ValueError(f"not an edge: {source} -> {target} ({site}:{ch} is not a node of this model)")
    if sl is not None and sl == tl and any(e.source == sk and e.target == tk for e in weight_edges()):
        return "weight"
    if (sk, tk) in qk_edges():
        if sl != tl or sc != tc:
            raise ValueError(f"not an edge: {source} -> {target} (a q·k edge joins q channel c to k channel c of one layer)")
        return "qk"
    sublayers, final = residual()
    n = len(sublayers)
    writes = [i for i, s in enumerate(sublayers) if s.write == sk]
    reads = [i for i, s in enumerate(sublayers) if s.read == tk]
    if writes and sl is not None and (reads and tl is not None or tk == final):
        w = sl * n + writes[0]
        r = float("inf") if tk == final else tl * n + reads[0]
        if sc != tc or r <= w:
            raise ValueError(f"not an edge: {source} -> {target} (a residual edge joins a write to a later read of the same channel)")
        return "residual"
    raise ValueError(f"not an edge: {source} -> {target} (no edge kind of the registry joins these sites)")


class EdgeAblationHooks(Hooks):
    """Hooks that apply a list of node, residual-edge and q·k-edge ablations (and record, like Hooks)."""

    def __init__(self, cfg: GPTConfig, means: Dict[str, torch.Tensor], interventions: List[dict],
                 record: Optional[Dict[str, torch.Tensor]] = None):
        self.cfg = cfg
        widths = dict(hook_sites(cfg))
        fill = lambda site, ch, mode: float(means[site][ch]) if mode == "mean" else 0.0  # noqa: E731
        nodes: Dict[str, Tuple[torch.Tensor, torch.Tensor]] = {}
        self.patches: Dict[str, Dict[Tuple[str, int], float]] = {}  # reader -> (writer, channel) -> value
        self.qk: Dict[int, Dict[int, float]] = {}  # layer -> channel -> value
        for iv in interventions:
            mode = iv["mode"]
            if mode not in ("mean", "zero"):
                raise ValueError(f"mode {mode!r}: use 'mean' or 'zero'")
            if iv["kind"] == "node":
                lay, kind, ch = parse_node(iv["node"])
                site = site_of(lay, kind)
                if site not in widths or ch >= widths[site]:
                    raise ValueError(f"{iv['node']} is not a node of this model")
                keep, f = nodes.setdefault(site, (torch.ones(widths[site]), torch.zeros(widths[site])))
                keep[ch], f[ch] = 0.0, fill(site, ch, mode)
            elif iv["kind"] == "edge":
                kind = edge_kind(cfg, iv["source"], iv["target"])
                (sl, sk, ch), (tl, tk, _) = parse_node(iv["source"]), parse_node(iv["target"])
                if kind == "residual":
                    writer = site_of(sl, sk)
                    self.patches.setdefault(site_of(tl, tk), {}).setdefault((writer, ch), fill(writer, ch, mode))
                elif kind == "qk":
                    self.qk.setdefault(tl, {}).setdefault(ch, fill(site_of(tl, tk), ch, mode))
                else:
                    raise ValueError(f"{iv['source']} -> {iv['target']} is a weight edge: ablate it by editing the weight")
            else:
                raise ValueError(f"intervention kind {iv['kind']!r} is not taken here (node and edge only)")
        super().__init__(record, {site: (lambda k, f: (lambda x: x * k + f))(k, f) for site, (k, f) in nodes.items()})
        self.writers = {w for p in self.patches.values() for (w, _) in p}
        self.seen: Dict[str, torch.Tensor] = {}

    def __call__(self, name: str, x: torch.Tensor) -> torch.Tensor:
        x = super().__call__(name, x)
        if name in self.writers:
            self.seen[name] = x
        return x

    def read(self, name: str, x: torch.Tensor) -> torch.Tensor:
        patches = self.patches.get(name)
        if not patches:
            return x
        copy = x.clone()
        for (writer, ch), value in patches.items():
            if writer not in self.seen:
                raise ValueError(f"residual edge {writer}:{ch} -> {name}:{ch}: the writer was not computed before the reader")
            copy[..., ch] += value - self.seen[writer][..., ch]
        return copy

    def scores(self, layer: int, q: torch.Tensor, k: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        edges = self.qk.get(layer)
        if not edges:
            return s
        D = self.cfg.d_head
        s = s.clone()
        for ch, value in edges.items():
            h, e = divmod(ch, D)
            # q_i[c] * (value - k_j[c]) turns the term q_i[c] k_j[c] of head h's scores into q_i[c] * value.
            s[:, h] += q[:, h, :, e].unsqueeze(-1) * (value - k[:, h, :, e]).unsqueeze(-2)
        return s
