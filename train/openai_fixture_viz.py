"""The viz_data.pt files of the release-shaped fixture (train/openai_fixtures.py): circuits, their stored losses and
the two tasks, in the structure paper-notes section 7 describes.

Deliberately written apart from the importer (train/openai_import/: one prompt at a time here, ablation by index
assignment), so that the importer's reproduction of the stored losses is a real check: a deliberate twin of
openai_import/evaluate_edges.py, not a duplicate to merge.
"""
from __future__ import annotations

import random
from typing import Dict, List

import torch

from model import GPT, GPTConfig, Hooks, hook_sites
from site_registry import dimension, weight_edges


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


def random_circuit(cfg: GPTConfig, rng: random.Random) -> Dict[str, List[int]]:
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
    """[arr(n_src + bias, n_tgt), src_idx (ending "bias"), tgt_idx, (src_loc, tgt_loc)] along the weight edge kinds
    of the site registry (the release's pair_data; the importer does not read it)."""
    cfg, sd = model.cfg, model.state_dict()
    out = []
    for layer in range(cfg.n_layer):
        for e in weight_edges():
            s, t = kept.get(f"{layer}.{e.source}", []), kept.get(f"{layer}.{e.target}", [])
            if not s or not t:
                continue
            W, b = sd[e.weight.replace("{layer}", str(layer))], sd[e.bias.replace("{layer}", str(layer))]
            off = dimension(e.row_offset, cfg)
            rows = [[float(W[off + j, i]) for j in t] for i in s] + [[float(b[off + j]) for j in t]]
            locs = (f"{layer}.{e.source}", f"{layer}.{e.target}")
            out.append([torch.tensor(rows), list(s) + ["bias"], list(t), locs])
    return out


@torch.no_grad()
def make_viz(model: GPT, beeg: dict, means, rows: List[List[int]], prompts, kept: Dict[str, List[int]],
             seed: int, corpus_tokens: List[int]) -> dict:
    """viz_data.pt's structure (paper-notes section 7) for one circuit. `rows` are the stored task_samples rows
    (class 1 then class 2); `prompts` are (tokens, correct, alternative) in the same order, as the task reads them."""
    cfg = model.cfg
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


def quote_task(enc):
    """single_double_quote, 'prompt' reading: rows end right before the closing quote (targets " and ')."""
    names = ["name", "path", "key", "label", "mode", "text", "title", "unit"]
    words = ["hello", "data", "x.py", "utf-8", "rb", "a b", "main", "ok"]
    dq, sq = enc.encode_ordinary('"')[0], enc.encode_ordinary("'")[0]
    c1 = [enc.encode_ordinary(f'{n} = "{w}') for n, w in zip(names, words)]
    c2 = [enc.encode_ordinary(f"{n} = '{w}") for n, w in zip(names, words)]
    rows = c1 + c2
    prompts = [(r, dq, sq) for r in c1] + [(r, sq, dq) for r in c2]
    return rows, prompts


def while_task(enc):
    """while_return_true, 'with-target' reading: each row ends with its decisive token (':' or newline)."""
    heads = ["def f(x):\n    n = 0\n", "def run():\n    ok = 1\n", "def g(a):\n    a += 1\n",
             "def loop():\n    x = []\n", "def h(s):\n    s = s\n", "def k():\n    t = 2\n"]
    colon, nl = enc.encode_ordinary(":")[0], enc.encode_ordinary("\n")[0]
    c1 = [enc.encode_ordinary(h + "    while True") for h in heads]
    c2 = [enc.encode_ordinary(h + "    return True") for h in heads]
    rows = [r + [colon] for r in c1] + [r + [nl] for r in c2]
    prompts = [(r, colon, nl) for r in c1] + [(r, nl, colon) for r in c2]
    return rows, prompts
