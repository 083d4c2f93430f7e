"""Fixtures shaped exactly like OpenAI's circuit-sparsity release (paper-notes sections 2, 7, 8), for testing
train/openai_import.py without the real (large) files.

  python train/openai_fixtures.py --small [--out test-fixtures/openai-small]
      A tiny random model in the blob layout, plus the importer's output of it:
        <out>/released/models/csp_tiny/{beeg_config.json, final_model.pt}
        <out>/released/tinypython/{encoder.json, vocab.bpe}
        <out>/released/viz/csp_tiny/mean_baseline_pretrain.pt
        <out>/released/viz/csp_tiny/<task>/prune_v4/k_optim/viz_data.pt   (two tasks)
        <out>/converted/                                                   (train/openai_import.py's model folder)
  python train/openai_fixtures.py --bridges2 test-fixtures/openai-large
      csp_bridges2's beeg_config.json verbatim (4 layers, d_model 2048, d_mlp 8192, 128 heads of 16, vocab 2048)
      with random weights at 1/128 density, and the project tokenizer (<|endoftext|> = 2047). About 0.9 GB; not
      committed (the folder is gitignored).

Faithful to the release: final_model.pt is torch.save(model.state_dict()) with the released key names and DENSE
tensors that are mostly zeros (no final_logits_bias: the loader must add zeros); beeg_config.json carries every
field of csp_bridges2's; viz_data.pt has the released structure with Python floats and tuples. The stored losses
(loss, interv_loss, ch_interv_losses, layer_interv_losses, all_loss) are per contrast pair (x2), computed here by
torch with mean ablation, independently of the importer's code.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
from typing import Dict, List

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import export as ex  # noqa: E402
from model import GPT, GPTConfig, Hooks, hook_sites  # noqa: E402
from tokenizer_train import EOT, bytes_to_unicode, data_gym_byte_order, load_tiktoken  # noqa: E402

TOK = os.path.join(HERE, "tokenizer")

# csp_bridges2's beeg_config.json, verbatim (paper-notes section 2).
BRIDGES2_CONFIG = {
    "block_size": 1024, "vocab_size": 2048, "n_layer": 4, "n_head": 128, "d_head": 16, "d_model": 2048,
    "dropout": 0.0, "bias": True, "ln_bias": True, "rms_norm": True, "residual_activation_type": "identity",
    "activation_type": "gelu", "afrac": 0.125,
    "afrac_loctypes": "attn_in,attn_out,mlp_in,mlp_out,mlp_neuron,attn_k,attn_q,attn_v",
    "afrac_approx": False, "enable_sparse_kernels": False, "ignore_dw_grad": False, "debug_nans": False,
    "tied_unembed": False, "bigram_table_rank": None, "tokenizer_name": "tinypython_2k", "pfrac": 0.5,
    "expansion_factor": 8, "expansion_factor_mlp": 8, "debug_exact_topk": True, "grad_checkpointing": True,
    "sparse_matmul_impl": "cuda", "d_mlp": 8192, "enable_bigram_table": True, "learnable_bigram_table": False,
    "d_pos_emb": None, "dropout_cat_pos_emb": False, "sinusoidal_cat_pos_emb": False, "flash": True, "sink": False,
    "rtopk": False, "n_embd": None,
}

# The small fixture: every csp_bridges2 field, small sizes, sink on (bigram on, not learnable, as in csp_bridges2).
SMALL_VOCAB = 288
SMALL_CONFIG = dict(BRIDGES2_CONFIG, block_size=64, vocab_size=SMALL_VOCAB, n_layer=2, n_head=2, d_head=16,
                    d_model=32, d_mlp=64, sink=True, afrac=0.25, expansion_factor=1, expansion_factor_mlp=1, pfrac=0.25)
SMALL_NAME = "csp_tiny"
SMALL_DENSITY = 0.25

MEANS_CORPUS = [
    "import os\nimport sys\n\n\ndef main(argv):\n    paths = [p for p in argv if os.path.exists(p)]\n"
    "    for path in paths:\n        with open(path) as fh:\n            text = fh.read()\n"
    "        print(\"%s: %d\" % (path, len(text)))\n    return 0\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n"
    "        self.items.append(x)\n\n    def pop(self):\n        return self.items.pop()\n",
    "values = [[1, 2], [3, 4]]\nnames = {'a': 1, \"b\": 2}\nwhile True:\n    if not values:\n        break\n"
    "    row = values.pop()\n    total = sum(row) if row else 0\n",
]


# ------------------------------------------------------------------------------------------------ tokenizer

def write_small_tokenizer(out_dir: str, vocab: int = SMALL_VOCAB) -> None:
    """The project tokenizer cut to `vocab` ids in the released data-gym format: the 256 bytes, its first
    vocab - 257 merges, and <|endoftext|> = vocab - 1 (as tinypython_2k has <|endoftext|> = 2047 for 2048)."""
    with open(os.path.join(TOK, "vocab.bpe"), encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    header, merges = lines[0], [ln for ln in lines[1:] if ln]
    keep = merges[:vocab - 257]
    b2u = bytes_to_unicode()
    encoder = {b2u[b]: i for i, b in enumerate(data_gym_byte_order())}
    for i, m in enumerate(keep):
        a, b = m.split(" ")
        assert a in encoder and b in encoder, f"merge {m!r} needs a dropped token"
        encoder[a + b] = 256 + i
    encoder[EOT] = vocab - 1
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "encoder.json"), "w", encoding="utf-8") as fh:
        json.dump(encoder, fh, ensure_ascii=False)
    with open(os.path.join(out_dir, "vocab.bpe"), "w", encoding="utf-8") as fh:
        fh.write(header + "\n" + "".join(m + "\n" for m in keep))
    enc = load_tiktoken(out_dir)
    assert enc.n_vocab == vocab and enc.eot_token == vocab - 1


# ------------------------------------------------------------------------------------------------ weights

def _sparsify_(p: torch.Tensor, density: float, gen: torch.Generator, std: float) -> None:
    n = p.numel()
    k = max(1, int(round(density * n)))
    p.zero_()
    idx = torch.randperm(n, generator=gen)[:k]
    p.view(-1)[idx] = torch.randn(k, generator=gen) * std


@torch.no_grad()
def random_released_model(beeg: dict, density: float, seed: int, std_scale: float = 1.0) -> GPT:
    """A GPT with the release's architecture and random mostly-zero weights (every matrix, embedding and bias at
    `density`; norms, sink logits and the bigram table dense)."""
    cfg = GPTConfig.from_dict(beeg)
    torch.manual_seed(seed)
    model = GPT(cfg)
    gen = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        if name == "bigram_table":
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3 * std_scale)
        elif name.endswith("sink_logit"):
            p.copy_(torch.randn(p.shape, generator=gen))
        elif name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
            p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
        elif name.endswith(".bias"):
            _sparsify_(p, density, gen, 0.1 * std_scale)
        else:  # 2-D: fan-in-scaled so that sparse activations stay O(1)
            fan_in = p.shape[1] if name != "transformer.wte.weight" and name != "transformer.wpe.weight" else 1
            std = (1.0 / max(1.0, density * fan_in)) ** 0.5 * std_scale
            if name == "transformer.wpe.weight":
                std *= 0.3
            _sparsify_(p, density, gen, std)
    model.eval()
    return model


def save_released(model: GPT, beeg: dict, model_dir: str) -> None:
    """beeg_config.json + final_model.pt = torch.save(state_dict()) with released names, dense tensors, and no
    final_logits_bias (older released checkpoints lack it; the loader adds zeros)."""
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "beeg_config.json"), "w") as fh:
        json.dump(beeg, fh)
    sd = model.state_dict()
    del sd["final_logits_bias"]
    torch.save(sd, os.path.join(model_dir, "final_model.pt"))


# ------------------------------------------------------------------------------------------------ task losses
# Deliberately written apart from openai_import.py (one prompt at a time, ablation by index assignment), so that
# the importer's reproduction of the stored losses is a real check.

def _ablate_all_but(kept: Dict[str, List[int]], means: Dict[str, torch.Tensor], cfg: GPTConfig):
    fns = {}
    for site, w in hook_sites(cfg):
        keep = set(kept.get(site, []))
        drop = torch.tensor([c for c in range(w) if c not in keep], dtype=torch.long)
        if len(drop) == 0:
            continue

        def fn(x, drop=drop, mu=means[site]):
            x = x.clone()
            x[..., drop] = mu[drop]
            return x
        fns[site] = fn
    return fns


@torch.no_grad()
def pair_loss_x2(model: GPT, prompts, interventions) -> float:
    """The release's two-sided loss: per contrast pair, the sum of both prompts' binary cross-entropies over the two
    candidate tokens at the last position; mean over pairs (= 2 x the mean per-prompt loss)."""
    tot = 0.0
    for toks, correct, alt in prompts:
        lg = model(torch.tensor([toks]), hooks=Hooks(None, interventions))[0, -1].double()
        tot += -torch.log_softmax(torch.stack([lg[correct], lg[alt]]), 0)[0].item()
    return 2 * tot / len(prompts)


# ------------------------------------------------------------------------------------------------ viz data

def _circuit(cfg: GPTConfig, rng: random.Random) -> Dict[str, List[int]]:
    """Random kept channels, drawn from shared pools so that residual and q-k edges occur; unsorted, as stored."""
    d, Q = cfg.d_model, cfg.n_head * cfg.d_head
    resid = rng.sample(range(d), 6)
    qk = rng.sample(range(Q), 4)
    out: Dict[str, List[int]] = {}
    for l in range(cfg.n_layer):
        out[f"{l}.attn.act_in"] = rng.sample(resid, 3)
        out[f"{l}.attn.q"] = rng.sample(qk, 3)
        out[f"{l}.attn.k"] = rng.sample(qk, 2)
        out[f"{l}.attn.v"] = rng.sample(range(Q), 3)
        out[f"{l}.attn.resid_delta"] = rng.sample(resid, 2)
        out[f"{l}.mlp.act_in"] = rng.sample(resid, 3)
        out[f"{l}.mlp.post_act"] = rng.sample(range(cfg.d_mlp), 4)
        out[f"{l}.mlp.resid_delta"] = rng.sample(resid, 2)
    out["final_resid"] = rng.sample(resid, 3)
    return {k: v for k, v in out.items() if v}


def _pad(rows: List[List[int]]) -> torch.Tensor:
    T = max(len(r) for r in rows)
    return torch.tensor([r + [0] * (T - len(r)) for r in rows], dtype=torch.long)


def _pair_data(model: GPT, kept: Dict[str, List[int]]):
    """[arr(n_src + bias, n_tgt), src_idx (ending "bias"), tgt_idx, (src_loc, tgt_loc)] along the four matrices."""
    cfg, sd = model.cfg, model.state_dict()
    Q = cfg.n_head * cfg.d_head
    out = []
    for l in range(cfg.n_layer):
        p = f"transformer.h.{l}"
        for src, dst, key, off in (("attn.act_in", "attn.q", "attn.c_attn", 0), ("attn.act_in", "attn.k", "attn.c_attn", Q),
                                   ("attn.act_in", "attn.v", "attn.c_attn", 2 * Q), ("attn.v", "attn.resid_delta", "attn.c_proj", 0),
                                   ("mlp.act_in", "mlp.post_act", "mlp.c_fc", 0), ("mlp.post_act", "mlp.resid_delta", "mlp.c_proj", 0)):
            s, t = kept.get(f"{l}.{src}", []), kept.get(f"{l}.{dst}", [])
            if not s or not t:
                continue
            W, b = sd[f"{p}.{key}.weight"], sd[f"{p}.{key}.bias"]
            rows = [[float(W[off + j, i]) for j in t] for i in s] + [[float(b[off + j]) for j in t]]
            out.append([torch.tensor(rows), list(s) + ["bias"], list(t), (f"{l}.{src}", f"{l}.{dst}")])
    return out


@torch.no_grad()
def make_viz(model: GPT, beeg: dict, means, rows: List[List[int]], prompts, kept: Dict[str, List[int]],
             seed: int, corpus_tokens: List[int]) -> dict:
    """viz_data.pt's structure (paper-notes section 7) for one circuit. `rows` are the stored task_samples rows
    (class 1 then class 2); `prompts` are (tokens, correct, alternative) in the same order, as the task reads them."""
    cfg = model.cfg
    n = len(prompts) // 2
    full = pair_loss_x2(model, prompts, {})
    circ_fns = _ablate_all_but(kept, means, cfg)
    interv = pair_loss_x2(model, prompts, circ_fns)
    ch = {}
    for loc, chans in kept.items():
        vals = []
        for c in chans:
            less = dict(kept)
            less[loc] = [x for x in chans if x != c]
            vals.append(pair_loss_x2(model, prompts, _ablate_all_but(less, means, cfg)))
        ch[loc] = torch.tensor(vals)
    layer = {}
    for l in range(cfg.n_layer):
        for part in ("attn", "mlp"):
            less = {k: v for k, v in kept.items() if not k.startswith(f"{l}.{part}.")}
            layer[f"{l}.{part}"] = pair_loss_x2(model, prompts, _ablate_all_but(less, means, cfg))
    tokens = _pad(rows)
    rec = {}
    model(tokens, hooks=Hooks(rec, circ_fns))
    acts = {loc: {c: rec[loc][:, :, c].clone() for c in chans} for loc, chans in kept.items()}
    # a few pretraining windows for one node, as the release's 'samples' (unused by the importer)
    loc0, c0 = next(iter(kept.items()))
    win = torch.tensor([corpus_tokens[i:i + 16] for i in range(0, 64, 16)])
    srec = {}
    model(win, hooks=Hooks(srec))
    items = [(win[i], srec[loc0][i, :, c0[0]].clone(), int(srec[loc0][i, :, c0[0]].abs().argmax())) for i in range(4)]
    samples = {loc0: {c0[0]: {f: (items[:2], items[2:]) for f in (0.001, 0.01, 0.1, 0.5)}}}
    rounds = 6
    all_loss = [(r, interv * (1 + (rounds - 1 - r) / rounds)) for r in range(rounds)]
    prune_config = {"sweep": "prune_v4", "k_coef": 1e-4, "lr": 3e-3, "batch_size": 64, "seed": seed,
                    "note": "openai_fixtures.py: a stand-in; the released prune_config keys are not known"}
    pd = _pair_data(model, kept)
    total = sum(w for _, w in hook_sites(cfg))
    return {
        "circuit_data": {**{loc: torch.tensor(ch_, dtype=torch.long) for loc, ch_ in kept.items()},
                         "prune_config": prune_config},
        "samples": samples,
        "importances": {
            "ch_interv_losses": ch, "layer_interv_losses": layer, "pair_data": pd,
            "pair_data_connections": pd, "loss": full, "interv_loss": interv, "beeg_model_config": dict(beeg),
            "task_samples": (tokens, acts),
        },
        "all_loss": all_loss, "num_total_nodes": total, "prune_config": prune_config,
    }


def _quote_task(enc):
    """single_double_quote, 'prompt' reading: rows end right before the closing quote (targets " and ')."""
    names = ["name", "path", "key", "label", "mode", "text", "title", "unit"]
    words = ["hello", "data", "x.py", "utf-8", "rb", "a b", "main", "ok"]
    dq, sq = enc.encode_ordinary('"')[0], enc.encode_ordinary("'")[0]
    c1 = [enc.encode_ordinary(f'{n} = "{w}') for n, w in zip(names, words)]
    c2 = [enc.encode_ordinary(f"{n} = '{w}") for n, w in zip(names, words)]
    rows = c1 + c2
    prompts = [(r, dq, sq) for r in c1] + [(r, sq, dq) for r in c2]
    return rows, prompts


def _while_task(enc):
    """while_return_true, 'with-target' reading: each row ends with its decisive token (':' or newline)."""
    heads = ["def f(x):\n    n = 0\n", "def run():\n    ok = 1\n", "def g(a):\n    a += 1\n",
             "def loop():\n    x = []\n", "def h(s):\n    s = s\n", "def k():\n    t = 2\n"]
    colon, nl = enc.encode_ordinary(":")[0], enc.encode_ordinary("\n")[0]
    c1 = [enc.encode_ordinary(h + "    while True") for h in heads]
    c2 = [enc.encode_ordinary(h + "    return True") for h in heads]
    rows = [r + [colon] for r in c1] + [r + [nl] for r in c2]
    prompts = [(r, colon, nl) for r in c1] + [(r, nl, colon) for r in c2]
    return rows, prompts


def make_small(out: str, convert: bool = True, seed: int = 0) -> None:
    rel = os.path.join(out, "released")
    if os.path.isdir(rel):
        shutil.rmtree(rel)
    tok_dir = os.path.join(rel, "tinypython")
    write_small_tokenizer(tok_dir)
    enc = load_tiktoken(tok_dir)
    beeg = dict(SMALL_CONFIG)
    model = random_released_model(beeg, SMALL_DENSITY, seed)
    model_dir = os.path.join(rel, "models", SMALL_NAME)
    save_released(model, beeg, model_dir)

    corpus = []
    for t in MEANS_CORPUS:
        corpus += enc.encode_ordinary(t) + [enc.eot_token]
    means = ex.compute_means(model, np.asarray(corpus, dtype=np.int64), n_windows=16, batch=16)
    viz_root = os.path.join(rel, "viz", SMALL_NAME)
    os.makedirs(viz_root, exist_ok=True)
    torch.save({k: v.clone() for k, v in means.items()}, os.path.join(viz_root, "mean_baseline_pretrain.pt"))

    rng = random.Random(seed)
    for task, maker in (("single_double_quote", _quote_task), ("while_return_true_beeg", _while_task)):
        rows, prompts = maker(enc)
        kept = _circuit(model.cfg, rng)
        viz = make_viz(model, beeg, means, rows, prompts, kept, seed, corpus)
        d = os.path.join(viz_root, task, "prune_v4", "k_optim")
        os.makedirs(d, exist_ok=True)
        torch.save(viz, os.path.join(d, "viz_data.pt"))
        print(f"{task}: k={sum(len(v) for v in kept.values())} loss x2 {viz['importances']['loss']:.5f} "
              f"interv_loss x2 {viz['importances']['interv_loss']:.5f}", file=sys.stderr)
    if convert:
        convert_small(out)


def small_import_args(out: str) -> dict:
    """The importer arguments that produce <out>/converted from <out>/released (also used by the tests)."""
    rel = os.path.join(out, "released")
    viz = os.path.join(rel, "viz", SMALL_NAME)
    return dict(model_dir=os.path.join(rel, "models", SMALL_NAME), model_id="openai-small",
                name="csp_tiny (fixture shaped like the OpenAI release)",
                means_baseline=os.path.join(viz, "mean_baseline_pretrain.pt"),
                viz=[os.path.join(viz, t, "prune_v4", "k_optim", "viz_data.pt")
                     for t in ("single_double_quote", "while_return_true_beeg")],
                golden_prompts=2, golden_max_tokens=20)


def convert_small(out: str, dest: str = None) -> dict:
    import openai_import as oi
    dest = dest or os.path.join(out, "converted")
    return oi.import_released(out=dest, force=True, **small_import_args(out))


def make_bridges2(out: str, seed: int = 0) -> None:
    beeg = dict(BRIDGES2_CONFIG)
    print("building csp_bridges2-shaped model (random weights at 1/128 density)…", file=sys.stderr)
    model = random_released_model(beeg, 1 / 128, seed)
    save_released(model, beeg, os.path.join(out, "models", "csp_bridges2"))
    tok = os.path.join(out, "tinypython")
    os.makedirs(tok, exist_ok=True)
    for fn in ("encoder.json", "vocab.bpe"):
        shutil.copyfile(os.path.join(TOK, fn), os.path.join(tok, fn))
    print(f"wrote {out}/models/csp_bridges2 and {out}/tinypython", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--small", action="store_true")
    g.add_argument("--bridges2", metavar="OUT")
    ap.add_argument("--out", default=os.path.join(ROOT, "test-fixtures", "openai-small"))
    ap.add_argument("--no-convert", action="store_true", help="--small: skip writing <out>/converted")
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    if a.small:
        make_small(a.out, convert=not a.no_convert)
    else:
        make_bridges2(a.bridges2)


if __name__ == "__main__":
    main()
