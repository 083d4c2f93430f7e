"""GPT with weight-sparsity-friendly options, as in docs/model-folder.md (released state-dict key names).

Written for torch >= 1.13 (no nn.RMSNorm / F.scaled_dot_product_attention there), CPU or CUDA.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Callable, Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from site_registry import sites as registry_sites

LOCTYPES_ALL = ("attn_in", "attn_out", "mlp_in", "mlp_out", "mlp_neuron", "attn_q", "attn_k", "attn_v")
RMS_EPS = 1.1920929e-07


@dataclass
class GPTConfig:
    block_size: int = 256
    vocab_size: int = 2048
    n_layer: int = 4
    n_head: int = 8
    d_head: int = 16
    d_model: int = 128
    d_mlp: int = 512
    bias: bool = True
    ln_bias: bool = True
    rms_norm: bool = True
    activation_type: str = "gelu"
    afrac: Optional[float] = None
    afrac_loctypes: str = "attn_in,attn_out,mlp_in,mlp_out"
    enable_bigram_table: bool = False
    sink: bool = False
    tied_unembed: bool = False
    residual_activation_type: str = "identity"
    tokenizer_name: str = "tinypython_2k"

    @classmethod
    def from_dict(cls, d: dict) -> "GPTConfig":
        d = dict(d)
        if "n_mlp" in d and "d_mlp" not in d:
            d["d_mlp"] = d.pop("n_mlp")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def to_dict(self) -> dict:
        return asdict(self)

    def topk_k(self, loc: str, width: int) -> Optional[int]:
        if self.afrac is None or self.afrac >= 1:
            return None
        if loc not in [s.strip() for s in self.afrac_loctypes.split(",") if s.strip()]:
            return None
        return max(1, int(math.floor(self.afrac * width)))


def abs_topk(x: torch.Tensor, k: Optional[int]) -> torch.Tensor:
    """Keep the k entries of largest |x| along the last dim, zero the rest."""
    if k is None or k >= x.shape[-1]:
        return x
    idx = x.abs().topk(k, dim=-1, sorted=False).indices
    mask = torch.zeros_like(x).scatter_(-1, idx, 1.0)
    return x * mask


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = RMS_EPS):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def make_norm(cfg: GPTConfig) -> nn.Module:
    if cfg.rms_norm:
        return RMSNorm(cfg.d_model)
    return nn.LayerNorm(cfg.d_model, eps=1e-5, elementwise_affine=True) if cfg.ln_bias else _LNNoBias(cfg.d_model)


class _LNNoBias(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.weight, None, 1e-5)


class AttnImp(nn.Module):
    """Holds the per-head sink logit (key name ``attn.attn_imp.sink_logit``)."""

    def __init__(self, n_head: int):
        super().__init__()
        self.sink_logit = nn.Parameter(torch.zeros(n_head))


class Hooks:
    """Records hook-site values (post-AbsTopK) and applies interventions {site: fn(tensor) -> tensor}."""

    def __init__(self, record: Optional[Dict[str, torch.Tensor]] = None,
                 interventions: Optional[Dict[str, Callable]] = None):
        self.record = record
        self.interventions = interventions or {}

    def __call__(self, name: str, x: torch.Tensor) -> torch.Tensor:
        fn = self.interventions.get(name)
        if fn is not None:
            x = fn(x)
        if self.record is not None:
            self.record[name] = x.detach()
        return x

    def read(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """The residual stream x as the reader site `name` (an act_in or final_resid) reads it, before its norm.
        Plain hooks read the stream itself; path patching (edge_ablation.py) gives a reader its own patched copy."""
        return x

    def scores(self, layer: int, q: torch.Tensor, k: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Attention scores s = q @ k^T of a layer ([B, H, T, T], before scaling and masking), from q and k [B, H, T, D]."""
        return s


_NOHOOK = Hooks()


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig, layer: int):
        super().__init__()
        self.cfg, self.layer = cfg, layer
        q = cfg.n_head * cfg.d_head
        self.c_attn = nn.Linear(cfg.d_model, 3 * q, bias=cfg.bias)
        self.c_proj = nn.Linear(q, cfg.d_model, bias=cfg.bias)
        if cfg.sink:
            self.attn_imp = AttnImp(cfg.n_head)

    def forward(self, a, hooks: Hooks):
        cfg, L = self.cfg, self.layer
        B, T, _ = a.shape
        H, D = cfg.n_head, cfg.d_head
        Q = H * D
        qkv = self.c_attn(a)
        q, k, v = qkv.split(Q, dim=-1)
        q = hooks(f"{L}.attn.q", abs_topk(q, cfg.topk_k("attn_q", Q)))
        k = hooks(f"{L}.attn.k", abs_topk(k, cfg.topk_k("attn_k", Q)))
        v = hooks(f"{L}.attn.v", abs_topk(v, cfg.topk_k("attn_v", Q)))
        q = q.view(B, T, H, D).transpose(1, 2)
        k = k.view(B, T, H, D).transpose(1, 2)
        v = v.view(B, T, H, D).transpose(1, 2)
        att = hooks.scores(L, q, k, q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D))
        mask = torch.ones(T, T, dtype=torch.bool, device=a.device).tril()
        att = att.masked_fill(~mask, float("-inf"))
        if cfg.sink:
            s = self.attn_imp.sink_logit.view(1, H, 1, 1).expand(B, H, T, 1).to(att.dtype)
            att = torch.cat([att, s], dim=-1).softmax(dim=-1)[..., :T]
        else:
            att = att.softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, Q)
        hooks(f"{L}.attn.y", y)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig, layer: int):
        super().__init__()
        self.cfg, self.layer = cfg, layer
        self.c_fc = nn.Linear(cfg.d_model, cfg.d_mlp, bias=cfg.bias)
        self.c_proj = nn.Linear(cfg.d_mlp, cfg.d_model, bias=cfg.bias)

    def forward(self, m, hooks: Hooks):
        cfg = self.cfg
        h = self.c_fc(m)
        h = F.gelu(h) if cfg.activation_type == "gelu" else F.relu(h)
        h = hooks(f"{self.layer}.mlp.post_act", abs_topk(h, cfg.topk_k("mlp_neuron", cfg.d_mlp)))
        return self.c_proj(h)


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig, layer: int):
        super().__init__()
        self.cfg, self.layer = cfg, layer
        self.ln_1 = make_norm(cfg)
        self.attn = CausalSelfAttention(cfg, layer)
        self.ln_2 = make_norm(cfg)
        self.mlp = MLP(cfg, layer)

    def forward(self, x, hooks: Hooks):
        cfg, L, d = self.cfg, self.layer, self.cfg.d_model
        x = hooks(f"{L}.resid_in", x)
        a = hooks(f"{L}.attn.act_in", abs_topk(self.ln_1(hooks.read(f"{L}.attn.act_in", x)), cfg.topk_k("attn_in", d)))
        r = hooks(f"{L}.attn.resid_delta", abs_topk(self.attn(a, hooks), cfg.topk_k("attn_out", d)))
        x = hooks(f"{L}.resid_mid", x + r)
        m = hooks(f"{L}.mlp.act_in", abs_topk(self.ln_2(hooks.read(f"{L}.mlp.act_in", x)), cfg.topk_k("mlp_in", d)))
        r = hooks(f"{L}.mlp.resid_delta", abs_topk(self.mlp(m, hooks), cfg.topk_k("mlp_out", d)))
        return x + r


def hook_sites(cfg: GPTConfig):
    """The node sites (exported in means/golden/snippets files) with their widths, in registry order.

    Read from src/model/registry/registry.json, the table the TypeScript runtime uses too; the forward pass above
    names the same sites inline, and tests/test_site_registry.py checks that it records exactly these."""
    return registry_sites(cfg)


class Transformer(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.wpe = nn.Embedding(cfg.block_size, cfg.d_model)
        self.h = nn.ModuleList([Block(cfg, i) for i in range(cfg.n_layer)])
        self.ln_f = make_norm(cfg)


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        self.transformer = Transformer(cfg)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        if cfg.tied_unembed:
            self.lm_head.weight = self.transformer.wte.weight
        self.register_buffer("final_logits_bias", torch.zeros(cfg.vocab_size))
        if cfg.enable_bigram_table:
            self.bigram_table = nn.Parameter(torch.rand(cfg.vocab_size, cfg.vocab_size) * 0.02)
        self._init_weights()

    def _init_weights(self):
        for name, p in self.named_parameters():
            if name.endswith("sink_logit") or name == "bigram_table":
                continue
            if name.endswith(".bias"):
                nn.init.zeros_(p)
            elif p.dim() == 2:
                std = 0.02 / math.sqrt(2 * self.cfg.n_layer) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx, targets=None, hooks: Optional[Hooks] = None):
        hooks = hooks or _NOHOOK
        B, T = idx.shape
        t = self.transformer
        pos = torch.arange(T, device=idx.device)
        x = t.wte(idx) + t.wpe(pos)[None]
        for blk in t.h:
            x = blk(x, hooks)
        x = hooks("final_resid", hooks.read("final_resid", x))
        logits = self.lm_head(t.ln_f(x)) + self.final_logits_bias
        if self.cfg.enable_bigram_table:
            logits = logits + self.bigram_table[idx]
        if targets is None:
            return logits
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    def run_with_hooks(self, idx, interventions=None):
        rec: Dict[str, torch.Tensor] = {}
        logits = self.forward(idx, hooks=Hooks(rec, interventions))
        return logits, rec


def save_config(cfg: GPTConfig, path: str, extra: Optional[dict] = None):
    d = cfg.to_dict()
    if extra:
        d.update(extra)
    with open(path, "w") as fh:
        json.dump(d, fh, indent=2)
