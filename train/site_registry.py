"""The hook sites and edge kinds of the weight-sparse GPT, read from src/model/registry/registry.json.

The TypeScript runtime and this trainer must agree on site names, widths, which sites are signed and which weight
connects which sites; keeping that table once, as data in src/model/, means a new site or edge kind is one edit
(format: src/model/registry/README.md). train/model.py's forward pass still names its sites inline (that is the
forward math); tests/test_site_registry.py checks that it records exactly the sites listed here.
"""
from __future__ import annotations

import functools
import json
import os
import re
from typing import Dict, List, NamedTuple, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REGISTRY_PATH = os.path.join(os.path.dirname(HERE), "src", "model", "registry", "registry.json")
FORMAT = "sparse-circuit-explorer/registry"

# The config keys a dimension expression may name (as src/model/registry/dimension.ts): every size is a product.
_DIMENSIONS = ("d_model", "d_mlp", "n_head", "d_head", "n_layer", "vocab_size", "block_size")


class SiteKind(NamedTuple):
    kind: str
    scope: str  # "layer": one site per layer, "{layer}.{kind}"; "global": one site, "{kind}"
    width: str  # a dimension expression
    channels: str  # what channel c indexes: "residual", "head" (of floor(c / d_head)) or "neuron"
    signed: bool
    abs_topk: str | None  # the afrac_loctypes location whose AbsTopK the value is taken after


class WeightEdge(NamedTuple):
    source: str
    target: str
    weight: str  # state-dict key with "{layer}"
    bias: str
    shape: Tuple[str, str]  # of the whole matrix, [out, in], as dimension expressions
    row_offset: str  # first row of the target's block (q, k and v share c_attn)


class Sublayer(NamedTuple):
    read: str
    write: str
    norm: str


@functools.lru_cache(maxsize=None)
def registry(path: str = REGISTRY_PATH) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            reg = json.load(fh)
    except (OSError, json.JSONDecodeError) as e:
        raise RuntimeError(f"{path}: cannot read the site registry ({e})") from None
    if reg.get("format") != FORMAT or reg.get("version") != 1:
        raise RuntimeError(f"{path}: expected format {FORMAT} version 1, "
                           f"found {reg.get('format')} {reg.get('version')}")
    if reg.get("weightOrientation") != "out_in":
        raise RuntimeError(f"{path}: weightOrientation {reg.get('weightOrientation')!r}; "
                           f"train/ stores Linear weights [out, in]")
    return reg


def dimension(expr: str, cfg) -> int:
    """A registry dimension ("d_model", "n_head*d_head", "2*n_head*d_head", "0") for a config (attributes or dict)."""
    n = 1
    for f in expr.split("*"):
        if re.fullmatch(r"\d+", f):
            n *= int(f)
        elif f in _DIMENSIONS:
            n *= int(cfg[f] if isinstance(cfg, dict) else getattr(cfg, f))
        else:
            raise ValueError(f"registry dimension {expr!r} is not a product of integers and {', '.join(_DIMENSIONS)}")
    return n


def site_kinds(path: str = REGISTRY_PATH) -> List[SiteKind]:
    return [SiteKind(k["kind"], k["scope"], k["width"], k["channels"], bool(k["signed"]), k.get("absTopK"))
            for k in registry(path)["siteKinds"]]


def site_name(kind: SiteKind, layer: int | None) -> str:
    return kind.kind if kind.scope == "global" else f"{layer}.{kind.kind}"


def sites(cfg, path: str = REGISTRY_PATH) -> List[Tuple[str, int]]:
    """(site, width) for every node site of a model: each layer's sites in registry order, then the global ones."""
    kinds = site_kinds(path)
    out = [(site_name(k, i), dimension(k.width, cfg)) for i in range(int(getattr(cfg, "n_layer")))
           for k in kinds if k.scope == "layer"]
    return out + [(site_name(k, None), dimension(k.width, cfg)) for k in kinds if k.scope == "global"]


def unsigned_kinds(path: str = REGISTRY_PATH) -> Tuple[str, ...]:
    """Site kinds whose values are (almost) never negative: they get no "most negative" snippet lists."""
    return tuple(k.kind for k in site_kinds(path) if not k.signed)


def site_kind_of(site: str) -> str:
    """"3.mlp.post_act" -> "mlp.post_act"; "final_resid" -> "final_resid"."""
    m = re.fullmatch(r"\d+\.(.+)", site)
    return m.group(1) if m else site


def weight_edges(path: str = REGISTRY_PATH) -> List[WeightEdge]:
    return [WeightEdge(e["source"], e["target"], e["weight"], e["bias"], tuple(e["shape"]), e["rowOffset"])
            for e in registry(path)["edgeKinds"]["weight"]]


def qk_edges(path: str = REGISTRY_PATH) -> List[Tuple[str, str]]:
    return [(e["source"], e["target"]) for e in registry(path)["edgeKinds"]["qk"]]


def residual(path: str = REGISTRY_PATH) -> Tuple[List[Sublayer], str]:
    r = registry(path)["edgeKinds"]["residual"]
    return [Sublayer(s["read"], s["write"], s["norm"]) for s in r["sublayers"]], r["final"]


def kinds_by_name(path: str = REGISTRY_PATH) -> Dict[str, SiteKind]:
    return {k.kind: k for k in site_kinds(path)}
