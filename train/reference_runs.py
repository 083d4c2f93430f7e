"""What a model folder carries besides its weights, computed by running the PyTorch model: golden logits and hook-site
values (the cross-implementation reference the TF.js tests replay), per-channel means for mean ablation, the
validation loss, and tokenizer golden pairs.

Shared by train/export.py (our models) and the OpenAI importer (released models), so both folders are made the same way.
"""
from __future__ import annotations

import json
import random
import re

import numpy as np
import torch

from batches import windows_at
from corpus import DATA, load_files
from edge_ablation import EdgeAblationHooks
from model import GPT, Hooks, hook_sites

GOLDEN_PROMPTS = [
    "def greet(name):\n    return 'Hello, ' + name + '!'\n\nprint(greet(\"world\"))\n",
    "x = [[1, 2], [3, 4]]\ny = [5, 6, 7]\nz = [[8], [9, 10]]\n",
    "import os\n\nfor path in os.listdir('.'):\n    if path.endswith(\".py\"):\n        print(path)\n",
    "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n",
    "seen = set()\nwhile True:\n    line = input()\n    if line in seen:\n        break\n    seen.add(line)\n",
]


@torch.no_grad()
def compute_means(model: GPT, tokens: np.ndarray, n_windows=256, batch=32):
    """Mean of every hook-site channel over n_windows evenly spaced windows of block_size tokens."""
    T = model.cfg.block_size
    stride = max(1, (len(tokens) - T) // n_windows)
    sums, count = {}, 0
    for b in range(0, n_windows, batch):
        x = torch.from_numpy(np.stack([np.asarray(tokens[i * stride:i * stride + T], dtype=np.int64)
                                       for i in range(b, min(b + batch, n_windows))]))
        rec = {}
        model(x, hooks=Hooks(rec))
        for name, _ in hook_sites(model.cfg):
            s = rec[name].double().sum(dim=(0, 1))
            sums[name] = s if name not in sums else sums[name] + s
        count += x.numel()
    return {k: (v / count).float().contiguous() for k, v in sums.items()}


@torch.no_grad()
def val_loss(model: GPT, tokens: np.ndarray, n_windows=512, batch=64, context: int | None = None):
    """Mean next-token loss over n_windows evenly spaced windows of `context` tokens (default: block_size).
    Models with different contexts are compared at the same `context`: a longer window lowers the loss by itself."""
    T = context or model.cfg.block_size
    stride = max(1, (len(tokens) - T - 1) // n_windows)
    losses = []
    for b in range(0, n_windows, batch):
        x, y = windows_at(tokens, [i * stride for i in range(b, min(b + batch, n_windows))], T)
        _, loss = model(x, y)
        losses.append(loss.item() * x.shape[0])
    return sum(losses) / n_windows


@torch.no_grad()
def golden(model: GPT, enc, prompts=GOLDEN_PROMPTS, means=None):
    """golden.safetensors' tensors and metadata: per prompt its tokens, logits and every hook site's values; with
    means, also edge-ablation results on prompt 0 (edge_golden)."""
    tensors = {}
    for p, text in enumerate(prompts):
        ids = enc.encode_ordinary(text)[: model.cfg.block_size]
        x = torch.tensor([ids], dtype=torch.long)
        logits, rec = model.run_with_hooks(x)
        tensors[f"p{p}.tokens"] = torch.tensor(ids, dtype=torch.int32)
        tensors[f"p{p}.logits"] = logits[0].float().contiguous()
        for name, _ in hook_sites(model.cfg):
            tensors[f"p{p}.{name}"] = rec[name][0].float().contiguous()
    meta = {"prompts": json.dumps(prompts)}
    if means is not None:
        et, emeta = edge_golden(model, means, tensors["p0.tokens"].tolist())
        tensors.update(et)
        meta["edge_ablations"] = json.dumps(emeta)
    return tensors, meta


EDGE_GOLDEN_POSITIONS = 4


def edge_golden_lists(model: GPT, means, ids):
    """Intervention lists (the runtime's JSON) of residual and q·k edges that move something on this prompt: residual
    edges from layer 0's attention write into the last layer's MLP read and from layer 0's MLP write into final_resid,
    and a q·k edge in the last layer, each in mean and zero mode, on the channels farthest from their means here; then
    one list mixing them with node ablations (a node-ablated writer, two writers into one reader, a q·k edge over an
    ablated k node)."""
    cfg = model.cfg
    last = cfg.n_layer - 1
    _, rec = model.run_with_hooks(torch.tensor([ids], dtype=torch.long))
    dev = lambda site: (rec[site][0] - means[site]).abs().sum(0)  # noqa: E731
    a = int(dev("0.attn.resid_delta").argmax())
    b = int(dev("0.mlp.resid_delta").argmax())
    k = int((rec[f"{last}.attn.q"][0].abs().sum(0) * dev(f"{last}.attn.k")).argmax())
    res = lambda w, r, ch, mode: {"kind": "edge", "source": f"{w}:{ch}", "target": f"{r}:{ch}", "mode": mode}  # noqa: E731
    qk = lambda mode: {"kind": "edge", "source": f"{last}.attn.q:{k}", "target": f"{last}.attn.k:{k}", "mode": mode}  # noqa: E731
    lists = []
    for mode in ("mean", "zero"):
        lists += [[res("0.attn.resid_delta", f"{last}.mlp.act_in", a, mode)], [res("0.mlp.resid_delta", "final_resid", b, mode)],
                  [qk(mode)]]
    lists.append([{"kind": "node", "node": f"0.attn.resid_delta:{a}", "mode": "zero"},
                  res("0.attn.resid_delta", f"{last}.mlp.act_in", a, "mean"), res("0.attn.resid_delta", "final_resid", a, "mean"),
                  res("0.mlp.resid_delta", "final_resid", b, "mean"), {"kind": "node", "node": f"{last}.attn.k:{k}", "mode": "zero"},
                  qk("mean")])
    return lists


@torch.no_grad()
def edge_golden(model: GPT, means, ids):
    """Logits, and the values of each residual edge's reader, at the last EDGE_GOLDEN_POSITIONS positions of one prompt
    under each list of edge_golden_lists, computed by edge_ablation.py: tensors e{i}.logits, e{i}.{reader} and the
    metadata {"prompt": 0, "positions": [...], "lists": [...]} (src/model/testing/goldenFile.ts replays them)."""
    T = len(ids)
    positions = list(range(max(0, T - EDGE_GOLDEN_POSITIONS), T))
    lists = edge_golden_lists(model, means, ids)
    tensors = {}
    for i, ivs in enumerate(lists):
        rec = {}
        logits = model(torch.tensor([ids], dtype=torch.long), hooks=EdgeAblationHooks(model.cfg, means, ivs, rec))
        tensors[f"e{i}.logits"] = logits[0, positions].float().contiguous()
        for reader in sorted({iv["target"].rsplit(":", 1)[0] for iv in ivs if iv["kind"] == "edge" and "resid" in iv["source"]}):
            tensors[f"e{i}.{reader}"] = rec[reader][0, positions].float().contiguous()
    return tensors, {"prompt": 0, "positions": positions, "lists": lists}


def tokenizer_golden(enc, n=50, seed=0, data_dir=DATA):
    """(text, ids) pairs from validation files, for testing other tokenizer implementations."""
    rng = random.Random(seed)
    files = [f["text"] for f in load_files("val", data_dir)]
    rng.shuffle(files)
    out = []
    extra = ["héllo wörld = 'ünïcode'  # ✓ → λx: x²\n", "名前 = \"東京\"\r\n\tpass\n", "x = [[1, 2]]\n",
             "emoji = '😀🎉'  \n\n\n   ", "", " ", "a\u00a0b\u2028c", "0123456789 3.14159e-10\n"]
    for t in extra:
        out.append({"text": t, "ids": enc.encode_ordinary(t)})
    long_files = [t for t in files if len(t) >= 400]
    for i in range(10 * n):
        if len(out) >= n or not long_files:
            break
        t = long_files[i % len(long_files)]
        a = rng.randrange(0, len(t) - 200)
        snippet = t[a:a + rng.randrange(50, 400)]
        out.append({"text": snippet, "ids": enc.encode_ordinary(snippet)})
    # make sure some non-ASCII validation text is present
    for t in files:
        m = re.search(r"[^\x00-\x7f]", t)
        if m and sum(1 for o in out if re.search(r"[^\x00-\x7f]", o["text"])) < 12:
            s = max(0, m.start() - 60)
            snippet = t[s:s + 160]
            out.append({"text": snippet, "ids": enc.encode_ordinary(snippet)})
    return out
