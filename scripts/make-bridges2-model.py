#!/usr/bin/env python3
"""Test model folders of the sizes of OpenAI's released ``csp_bridges2`` and ``csp_yolo2``, with random weight-sparse weights.

Usage:  .venv/bin/python scripts/make-bridges2-model.py [--shape bridges2|yolo2] [--out DIR] [--seed 0] [--force]

--shape bridges2 (default; written to public/models/_bridges2): csp_bridges2's configuration: n_layer 4, d_model 2048,
d_mlp 8192, n_head 128, d_head 16, block_size 1024, vocab 2048, afrac 0.125 at all 8 AbsTopK locations, bias, RMSNorm,
untied unembedding, a dense [2048, 2048] bigram table, no sink: ~216M weight slots (~864 MB as dense float32), 1/128
of every weight matrix and bias nonzero. ~55 MB on disk.
--shape yolo2 (public/models/_yolo2): the same with 8 layers and an attention sink, ~1/1000 nonzero: ~417M weight slots
(~1.7 GB as dense float32).

Every weight matrix and bias gets exactly round(numel * density) nonzero entries at random positions (the norms are
dense, the bigram table dense small values, the sink logits dense); each layer's output rows are "live" (normal values)
or "dead" (scaled by 1e-6), see sparse_state for why. The weights are generated and kept sparse (positions and values,
never a dense matrix), written in our folder format (docs/model-folder.md: compact K.__indices / K.__values tensors),
and the reference forward runs train/model.py with its linear layers multiplying those sparse matrices (SparseLinear):
seconds and a few hundred MB instead of minutes and several GB of dense float64 weights.

Next to the weights it writes ``golden.safetensors`` (our golden format, prompt 0 = a fixed 64-token prompt): the
logits and every hook site computed by train/model.py in float64, the float32 torch run's largest deviation from it,
and the AbsTopK tie risk of the float64 run (see sparse_state: why weight rows are "live" or "dead"), so tests can
see why their tolerance is what it is. It exits with an error if either is above 1e-4.
Deterministic for a given shape and seed. The folders are gitignored (public/models/_*/); the e2e tests create them
when missing.
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

DENSITY = 1 / 128  # csp_bridges2's
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
# csp_yolo2's shape: csp_bridges2's with 8 layers and an attention sink.
YOLO2 = dict(GPTConfig.from_dict(dict(BRIDGES2_CONFIG, n_layer=8, sink=True)).to_dict(), tokenizer_name="py_bpe_2k")

SHAPES = {
    "bridges2": {"config": BRIDGES2, "density": DENSITY, "id": "_bridges2", "name": "csp_bridges2-sized random test model"},
    "yolo2": {"config": YOLO2, "density": 1 / 1000, "id": "_yolo2", "name": "csp_yolo2-sized random test model"},
}


class Sparse:
    """A weight tensor kept sparse: its shape, the flat positions of its nonzeros (increasing) and their values."""

    def __init__(self, shape, idx: torch.Tensor, vals: torch.Tensor):
        self.shape, self.idx, self.vals = list(shape), idx, vals

    def dense(self) -> torch.Tensor:
        flat = torch.zeros(math.prod(self.shape), dtype=torch.float32)
        flat[self.idx] = self.vals
        return flat.view(*self.shape)


def random_positions(numel: int, nnz: int, g) -> torch.Tensor:
    """nnz distinct positions in [0, numel), uniformly at random, increasing; without a permutation of all numel
    (at 1/1000 density that would be 1000x the work and memory)."""
    if nnz * 4 >= numel:
        return torch.randperm(numel, generator=g)[:nnz].sort().values
    picked = torch.empty(0, dtype=torch.long)
    while picked.numel() < nnz:
        draw = torch.randint(0, numel, (2 * (nnz - picked.numel()) + 16,), generator=g)
        picked = torch.unique(torch.cat([picked, draw]))
    return picked[torch.randperm(picked.numel(), generator=g)[:nnz]].sort().values


def sparse_random(shape, std, g, density=DENSITY, live_rows=None, live_cols=None) -> Sparse:
    """Exactly round(numel * density) nonzero N(0, std^2) entries at random positions. Entries outside live_rows
    (a bool mask over dim 0) or live_cols (over the last dim) are scaled by DEAD_SCALE."""
    numel = math.prod(shape)
    nnz = max(1, round(numel * density))
    idx = random_positions(numel, nnz, g)
    vals = torch.randn(nnz, generator=g) * std
    vals[vals == 0] = std  # exactly nnz nonzeros
    row_len = numel // shape[0]
    if live_rows is not None:
        vals = torch.where(live_rows[idx // row_len], vals, vals * DEAD_SCALE)
    if live_cols is not None:
        vals = torch.where(live_cols[idx % shape[-1]], vals, vals * DEAD_SCALE)
    return Sparse(shape, idx, vals)


def live_set(width: int, n: int, g) -> torch.Tensor:
    mask = torch.zeros(width, dtype=torch.bool)
    mask[torch.randperm(width, generator=g)[:n]] = True
    return mask


def sparse_state(cfg: GPTConfig, seed: int, density: float = DENSITY) -> dict:
    """Random weights with unambiguous AbsTopK decisions: {name: Sparse} for the matrices, biases and embeddings,
    dense tensors for the rest.

    With plain i.i.d. weights, the 64-token prompt crosses ~2000 AbsTopK boundaries (8 sites x 4 layers x 64
    positions), and some pair of candidates always lies within float32 rounding of a tie (measured: smallest relative
    gap 2e-7). Any two float32 implementations (torch, TF.js) then keep different channels there, and the logits of the
    two differ by up to 20 %, so no tolerance could tell a bug from rounding. Here every layer has "live" output
    channels (fewer than each AbsTopK keeps) with N(0, std^2) weights, and the other rows are scaled by DEAD_SCALE: an
    AbsTopK boundary then falls among dead values only, and picking a different dead channel changes the result by
    ~DEAD_SCALE (relative). Still `density` of every matrix is nonzero.
    """
    g = torch.Generator().manual_seed(seed)
    d, V, Q, M = cfg.d_model, cfg.vocab_size, cfg.n_head * cfg.d_head, cfg.d_mlp
    k_d, k_q, k_m = int(cfg.afrac * d), int(cfg.afrac * Q), int(cfg.afrac * M)
    # Entries of a matrix row ~ N(0, 1 / (fan_in * density)): each output sums ~fan_in * density products.
    lin_std = lambda fan_in: 1.0 / math.sqrt(fan_in * density)  # noqa: E731
    rand = lambda shape, std, **live: sparse_random(shape, std, g, density, **live)  # noqa: E731
    resid = live_set(d, (5 * k_d) // 8, g)  # residual channels that carry signal (embeddings, every write)
    # Embeddings: entries in dead residual columns scaled by DEAD_SCALE.
    sd = {"transformer.wte.weight": rand([V, d], 1.0, live_cols=resid),
          "transformer.wpe.weight": rand([cfg.block_size, d], 1.0, live_cols=resid)}
    for i in range(cfg.n_layer):
        p = f"transformer.h.{i}"
        qkv = torch.cat([live_set(Q, (3 * k_q) // 4, g) for _ in range(3)])
        fc = live_set(M, (3 * k_m) // 4, g)
        sd[f"{p}.ln_1.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
        sd[f"{p}.attn.c_attn.weight"] = rand([3 * Q, d], lin_std(d), live_rows=qkv)
        sd[f"{p}.attn.c_attn.bias"] = rand([3 * Q], 0.5, live_rows=qkv)
        sd[f"{p}.attn.c_proj.weight"] = rand([d, Q], lin_std(Q), live_rows=resid)
        sd[f"{p}.attn.c_proj.bias"] = rand([d], 0.5, live_rows=resid)
        if cfg.sink:
            sd[f"{p}.attn.attn_imp.sink_logit"] = torch.randn(cfg.n_head, generator=g)
        sd[f"{p}.ln_2.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
        sd[f"{p}.mlp.c_fc.weight"] = rand([M, d], lin_std(d), live_rows=fc)
        sd[f"{p}.mlp.c_fc.bias"] = rand([M], 0.5, live_rows=fc)
        sd[f"{p}.mlp.c_proj.weight"] = rand([d, M], lin_std(M), live_rows=resid)
        sd[f"{p}.mlp.c_proj.bias"] = rand([d], 0.5, live_rows=resid)
    sd["transformer.ln_f.weight"] = 1 + 0.1 * torch.randn(d, generator=g)
    sd["lm_head.weight"] = rand([V, d], lin_std(d))
    sd["final_logits_bias"] = torch.zeros(V)
    sd["bigram_table"] = torch.randn(V, V, generator=g) * 0.02
    return sd


def random_state(cfg: GPTConfig, seed: int, density: float = DENSITY) -> dict:
    """sparse_state as a dense state dict (small configs, tests)."""
    return {k: v.dense() if isinstance(v, Sparse) else v for k, v in sparse_state(cfg, seed, density).items()}


def compact_tensors(state: dict) -> tuple[dict, dict]:
    """Our folder format's tensors and metadata: Sparse entries as K.__indices / K.__values (the layout
    train/model_folder.py's to_compact writes), the rest through to_compact itself."""
    tensors, meta = to_compact({k: v for k, v in state.items() if not isinstance(v, Sparse)})
    for k, v in state.items():
        if isinstance(v, Sparse):
            tensors[k + ".__indices"] = v.idx.to(torch.int32).contiguous()
            tensors[k + ".__values"] = v.vals.to(torch.float32).contiguous()
            meta["sparse:" + k] = json.dumps(v.shape)
    return tensors, meta


class SparseLinear(torch.nn.Module):
    """nn.Linear's forward (x @ W^T + b) with W kept sparse, multiplied in the dtype of x (float32 or float64)."""

    def __init__(self, weight: Sparse, bias):
        super().__init__()
        self.out_features, self.in_features = weight.shape
        self.rows, self.cols, self.vals = weight.idx // self.in_features, weight.idx % self.in_features, weight.vals
        self.bias_values = bias.dense() if isinstance(bias, Sparse) else bias
        self.by_dtype: dict = {}

    def forward(self, x):
        if x.dtype not in self.by_dtype:
            w = torch.sparse_coo_tensor(torch.stack([self.rows, self.cols]), self.vals.to(x.dtype),
                                        (self.out_features, self.in_features), check_invariants=True).coalesce()
            self.by_dtype[x.dtype] = (w, None if self.bias_values is None else self.bias_values.to(x.dtype))
        w, b = self.by_dtype[x.dtype]
        y = torch.sparse.mm(w, x.reshape(-1, self.in_features).t()).t()
        if b is not None:
            y = y + b
        return y.reshape(*x.shape[:-1], self.out_features)


LINEARS = ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")


def sparse_model(cfg: GPTConfig, state: dict) -> GPT:
    """train/model.py's GPT with every linear layer a SparseLinear over the state's sparse matrices; the other
    parameters (norms, embeddings, sink, bigram table) dense. No dense copy of a weight matrix is ever made."""
    with torch.device("meta"):
        model = GPT(cfg)
    for i, blk in enumerate(model.transformer.h):
        for name in LINEARS:
            part, lin = name.split(".")
            key = f"transformer.h.{i}.{name}"
            setattr(getattr(blk, part), lin, SparseLinear(state[key + ".weight"], state.get(key + ".bias")))
    model.lm_head = SparseLinear(state["lm_head.weight"], None)
    model.to_empty(device="cpu")
    linear = {f"transformer.h.{i}.{n}.{w}" for i in range(cfg.n_layer) for n in LINEARS for w in ("weight", "bias")} | {"lm_head.weight"}
    dense = {k: v.dense() if isinstance(v, Sparse) else v for k, v in state.items() if k not in linear}
    missing, unexpected = model.load_state_dict(dense, strict=False)
    if missing or unexpected:
        raise RuntimeError(f"sparse model: missing {missing}, unexpected {unexpected}")
    return model.eval()


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
    ap.add_argument("--shape", choices=sorted(SHAPES), default="bridges2", help="released model whose shape to take")
    ap.add_argument("--out", help="folder to write (default public/models/_<shape>)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="rewrite the folder even when it is complete")
    args = ap.parse_args()
    shape = SHAPES[args.shape]
    out = args.out or os.path.join(ROOT, "public/models", shape["id"])
    done_marker = os.path.join(out, "golden.safetensors")
    if os.path.exists(done_marker) and not args.force:
        print(f"{out} exists (use --force to rewrite)")
        return
    torch.manual_seed(args.seed)
    t0 = time.time()
    cfg = GPTConfig.from_dict(shape["config"])
    state = sparse_state(cfg, args.seed, shape["density"])

    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "tokenizer"))
    with open(os.path.join(tmp, "config.json"), "w") as fh:
        json.dump(shape["config"], fh, indent=2)
    tensors, meta = compact_tensors(state)
    save_file(tensors, os.path.join(tmp, "model.safetensors"), metadata=meta)
    del tensors
    tok_dir = os.path.join(ROOT, "train/tokenizer")
    for f in ("encoder.json", "vocab.bpe"):
        shutil.copyfile(os.path.join(tok_dir, f), os.path.join(tmp, "tokenizer", f))
    print(f"weights written ({time.time() - t0:.1f} s)", flush=True)

    model = sparse_model(cfg, state)
    del state
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
        "id": shape["id"],
        "name": shape["name"],
        "kind": f"random weights at 1/{round(1 / shape['density'])} density (test fixture, not a trained model)",
        "generator": f"scripts/make-bridges2-model.py --shape {args.shape}",
        "seed": args.seed,
        "density": shape["density"],
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
