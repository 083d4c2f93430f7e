#!/usr/bin/env python3
"""A test model folder of the size of OpenAI's released ``csp_bridges2`` with random weight-sparse weights.

Usage:  .venv/bin/python scripts/make-bridges2-model.py [--out public/models/_bridges2] [--seed 0] [--force]

The configuration is csp_bridges2's: n_layer 4, d_model 2048, d_mlp 8192, n_head 128, d_head 16, block_size 1024,
vocab 2048, afrac 0.125 at all 8 AbsTopK locations, bias, RMSNorm, untied unembedding, a dense [2048, 2048] bigram
table, no sink: ~216M weight slots (~864 MB as dense float32). Every weight matrix and bias gets exactly
round(numel / 128) nonzero entries at random positions (the norms are dense, the bigram table dense small values);
each layer's output rows are "live" (normal values) or "dead" (scaled by 1e-6), see random_state for why. Written in
our folder format (docs/model-folder.md; compact sparse tensors via train/model_folder.py's ``to_compact``):
~55 MB on disk. Takes about a minute and ~3 GB of memory (the float64 reference forward).

Next to the weights it writes ``golden.safetensors`` (our golden format, prompt 0 = a fixed 64-token prompt): the
logits and every hook site computed by train/model.py in float64, the float32 torch run's largest deviation from it,
and the AbsTopK tie risk of the float64 run (see random_state: why weight rows are "live" or "dead"), so tests can
see why their tolerance is what it is. It exits with an error if either is above 1e-4.
Deterministic for a given seed. The folder is gitignored (public/models/_*/); the e2e test creates it when missing.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "train"))

from model import GPT, GPTConfig, Hooks, abs_topk, hook_sites  # noqa: E402
from model_folder import FORMAT, to_compact  # noqa: E402
from openai_fixtures import BRIDGES2_CONFIG  # noqa: E402

DENSITY = 1 / 128
DEAD_SCALE = 1e-6
PROMPT_TOKENS = 64
PROMPT_TEXT = (
    "def parse(items):\n    result = []\n    for key, value in items:\n        if key == \"name\":\n"
    "            result.append([key, value])\n    return result\n\n\nclass Point:\n    def __init__(self, x, y):\n"
    "        self.x = x\n        self.y = y\n"
)
# Our config.json for csp_bridges2's released configuration (kept verbatim in one place, train/openai_fixtures.py):
# the fields the runtime reads, named with this project's tokenizer.
BRIDGES2 = dict(GPTConfig.from_dict(BRIDGES2_CONFIG).to_dict(), tokenizer_name="py_bpe_2k")


def sparse_random(shape, std, g, live_rows=None) -> torch.Tensor:
    """Dense float32 tensor with exactly round(numel * DENSITY) nonzero N(0, std^2) entries at random positions.
    With live_rows (a bool mask over dim 0), the other rows' entries are scaled by DEAD_SCALE."""
    numel = math.prod(shape)
    nnz = max(1, round(numel * DENSITY))
    idx = torch.randperm(numel, generator=g)[:nnz]
    flat = torch.zeros(numel, dtype=torch.float32)
    vals = torch.randn(nnz, generator=g) * std
    vals[vals == 0] = std  # exactly nnz nonzeros
    if live_rows is not None:
        row_len = numel // shape[0]
        vals = torch.where(live_rows[idx // row_len], vals, vals * DEAD_SCALE)
    flat[idx] = vals
    return flat.view(*shape)


def live_set(width: int, n: int, g) -> torch.Tensor:
    mask = torch.zeros(width, dtype=torch.bool)
    mask[torch.randperm(width, generator=g)[:n]] = True
    return mask


def random_state(cfg: GPTConfig, seed: int) -> dict:
    """Random weights with unambiguous AbsTopK decisions.

    With plain i.i.d. weights, the 64-token prompt crosses ~2000 AbsTopK boundaries (8 sites x 4 layers x 64
    positions), and some pair of candidates always lies within float32 rounding of a tie (measured: smallest relative
    gap 2e-7). Any two float32 implementations (torch, TF.js) then keep different channels there, and the logits of the
    two differ by up to 20 %, so no tolerance could tell a bug from rounding. Here every layer has "live" output
    channels (fewer than each AbsTopK keeps) with N(0, std^2) weights, and the other rows are scaled by DEAD_SCALE: an
    AbsTopK boundary then falls among dead values only, and picking a different dead channel changes the result by
    ~DEAD_SCALE (relative). Still 1/128 of every matrix is nonzero.
    """
    g = torch.Generator().manual_seed(seed)
    d, V, Q, M = cfg.d_model, cfg.vocab_size, cfg.n_head * cfg.d_head, cfg.d_mlp
    k_d, k_q, k_m = int(cfg.afrac * d), int(cfg.afrac * Q), int(cfg.afrac * M)
    # Entries of a matrix row ~ N(0, 1 / (fan_in * DENSITY)): each output sums ~fan_in * DENSITY products.
    lin_std = lambda fan_in: 1.0 / math.sqrt(fan_in * DENSITY)  # noqa: E731
    resid = live_set(d, (5 * k_d) // 8, g)  # residual channels that carry signal (embeddings, every write)
    sd = {"transformer.wte.weight": _embedding(V, d, resid, g), "transformer.wpe.weight": _embedding(cfg.block_size, d, resid, g)}
    for i in range(cfg.n_layer):
        p = f"transformer.h.{i}"
        qkv = torch.cat([live_set(Q, (3 * k_q) // 4, g) for _ in range(3)])
        fc = live_set(M, (3 * k_m) // 4, g)
        sd[f"{p}.ln_1.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
        sd[f"{p}.attn.c_attn.weight"] = sparse_random([3 * Q, d], lin_std(d), g, qkv)
        sd[f"{p}.attn.c_attn.bias"] = sparse_random([3 * Q], 0.5, g, qkv)
        sd[f"{p}.attn.c_proj.weight"] = sparse_random([d, Q], lin_std(Q), g, resid)
        sd[f"{p}.attn.c_proj.bias"] = sparse_random([d], 0.5, g, resid)
        sd[f"{p}.ln_2.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
        sd[f"{p}.mlp.c_fc.weight"] = sparse_random([M, d], lin_std(d), g, fc)
        sd[f"{p}.mlp.c_fc.bias"] = sparse_random([M], 0.5, g, fc)
        sd[f"{p}.mlp.c_proj.weight"] = sparse_random([d, M], lin_std(M), g, resid)
        sd[f"{p}.mlp.c_proj.bias"] = sparse_random([d], 0.5, g, resid)
    sd["transformer.ln_f.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
    sd["lm_head.weight"] = sparse_random([V, d], lin_std(d), g)
    sd["final_logits_bias"] = torch.zeros(V)
    sd["bigram_table"] = torch.randn(V, V, generator=g) * 0.02
    return sd


def _embedding(rows: int, d: int, resid: torch.Tensor, g) -> torch.Tensor:
    """[rows, d] at 1/128 density; entries in dead residual columns scaled by DEAD_SCALE."""
    w = sparse_random([rows, d], 1.0, g)
    return torch.where(resid[None, :], w, w * DEAD_SCALE)


def prompt_tokens(tok_dir: str) -> list[int]:
    from tokenizer_train import load_tiktoken  # noqa: E402
    enc = load_tiktoken(tok_dir)
    ids = enc.encode_ordinary(PROMPT_TEXT)
    while len(ids) < PROMPT_TOKENS:
        ids = ids + ids
    return ids[:PROMPT_TOKENS]


@torch.no_grad()
def reference(model: GPT, ids: list[int]):
    x = torch.tensor([ids], dtype=torch.long)
    rec: dict = {}
    logits = model.forward(x, hooks=Hooks(rec))
    return logits[0], {name: rec[name][0] for name, _ in hook_sites(model.cfg)}


@torch.no_grad()
def topk_tie_risk(model64: GPT, ids: list[int]) -> tuple[float, str]:
    """The largest value (relative to its row's largest) at an AbsTopK boundary of the float64 run whose kept and
    dropped neighbours are within 1e-3 (relative) of a tie: the most a float32 rounding difference could change."""
    worst = [0.0, "no near-tie"]
    orig = abs_topk

    def tracking(x, k):
        if k is not None and k < x.shape[-1]:
            a = x.abs().reshape(-1, x.shape[-1])
            top = a.topk(k + 1, dim=-1).values
            kth, nxt, mx = top[:, k - 1], top[:, k], top[:, 0]
            near = (kth > 0) & ((kth - nxt) < 1e-3 * kth)
            if bool(near.any()):
                risk = (kth[near] / mx[near]).max().item()
                if risk > worst[0]:
                    worst[0], worst[1] = risk, f"width {x.shape[-1]}, k {k}"
        return orig(x, k)

    import model as model_module
    model_module.abs_topk = tracking
    try:
        model64(torch.tensor([ids], dtype=torch.long))
    finally:
        model_module.abs_topk = orig
    return worst[0], worst[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "public/models/_bridges2"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="rewrite the folder even when it is complete")
    args = ap.parse_args()
    out = args.out
    done_marker = os.path.join(out, "golden.safetensors")
    if os.path.exists(done_marker) and not args.force:
        print(f"{out} exists (use --force to rewrite)")
        return
    torch.manual_seed(args.seed)
    t0 = time.time()
    cfg = GPTConfig.from_dict(BRIDGES2)
    state = random_state(cfg, args.seed)

    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "tokenizer"))
    with open(os.path.join(tmp, "config.json"), "w") as fh:
        json.dump(BRIDGES2, fh, indent=2)
    tensors, meta = to_compact(state)
    save_file(tensors, os.path.join(tmp, "model.safetensors"), metadata=meta)
    del tensors
    tok_dir = os.path.join(ROOT, "train/tokenizer")
    for f in ("encoder.json", "vocab.bpe"):
        shutil.copyfile(os.path.join(tok_dir, f), os.path.join(tmp, "tokenizer", f))
    print(f"weights written ({time.time() - t0:.1f} s)", flush=True)

    model = GPT(cfg)
    model.load_state_dict(state, strict=True)
    del state
    model.eval()
    ids = prompt_tokens(tok_dir)
    logits32, _ = reference(model, ids)

    # Means for mean ablation: over a few random token windows (a random model has no "pretraining text").
    g = torch.Generator().manual_seed(args.seed + 1)
    rec: dict = {}
    sums = {name: torch.zeros(w, dtype=torch.float64) for name, w in hook_sites(cfg)}
    n = 0
    with torch.no_grad():
        for _ in range(4):
            x = torch.randint(0, cfg.vocab_size, (1, PROMPT_TOKENS), generator=g)
            model.forward(x, hooks=Hooks(rec))
            for name, _ in hook_sites(cfg):
                sums[name] += rec[name][0].double().sum(0)
            n += PROMPT_TOKENS
    save_file({name: (s / n).float().contiguous() for name, s in sums.items()}, os.path.join(tmp, "means.safetensors"),
              metadata={"format": FORMAT, "windows": "4 random windows of 64 tokens"})

    model = model.double()
    logits64, sites64 = reference(model, ids)
    risk, risk_where = topk_tie_risk(model, ids)
    rel32 = ((logits32.double() - logits64).abs().max() / logits64.abs().max()).item()
    if rel32 > 1e-4 or risk > 1e-4:
        sys.exit(f"the random model is not numerically robust: float32 vs float64 logits differ by {rel32:.2e} "
                 f"(relative), AbsTopK near-tie at {risk:.2e} of its row's largest value ({risk_where})")
    golden = {"p0.tokens": torch.tensor(ids, dtype=torch.int32), "p0.logits": logits64.float().contiguous()}
    for name, _ in hook_sites(cfg):
        golden[f"p0.{name}"] = sites64[name].float().contiguous()
    save_file(golden, os.path.join(tmp, "golden.safetensors"), metadata={
        "prompts": json.dumps([PROMPT_TEXT]),
        "reference": "train/model.py in float64",
        "torch_float32_max_rel_diff": repr(rel32),
        "abs_topk_tie_risk": repr(risk),
    })
    card = {
        "id": "_bridges2",
        "name": "csp_bridges2-sized random test model",
        "kind": "random weights at 1/128 density (test fixture, not a trained model)",
        "generator": "scripts/make-bridges2-model.py",
        "seed": args.seed,
        "density": DENSITY,
        "golden_prompt_tokens": PROMPT_TOKENS,
        "torch_float32_max_rel_diff_logits": rel32,
        "abs_topk_tie_risk": risk,
    }
    with open(os.path.join(tmp, "model-card.json"), "w") as fh:
        json.dump(card, fh, indent=2)
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(out) for f in fs)
    print(f"wrote {out}: {size / 1e6:.1f} MB on disk, float32-vs-float64 max rel logit diff {rel32:.2e}, "
          f"AbsTopK near-tie risk {risk:.2e} ({risk_where}), {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
