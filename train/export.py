"""Export a trained run to a model folder (docs/model-folder.md) and measure its task checks.

Usage:
  python train/export.py --run train/runs/sparse-py-2l --id sparse-py-2l --name "Sparse Python, 2 layers" \
      [--dense-twin dense-py-2l] [--default]

Writes public/models/<id>/{config.json, model.safetensors, means.safetensors, golden.safetensors,
model-card.json, tokenizer/{encoder.json, vocab.bpe, golden.json}} and adds the model to public/models/index.json.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from constructs import find_cases  # noqa: E402
from corpus import DATA, MANIFEST, load_files  # noqa: E402
from model import GPT, GPTConfig, Hooks, hook_sites  # noqa: E402
from sparsity import sparsified_params  # noqa: E402
from tokenizer_train import load_tiktoken  # noqa: E402

FORMAT = "sparse-circuit-explorer/1"

GOLDEN_PROMPTS = [
    "def greet(name):\n    return 'Hello, ' + name + '!'\n\nprint(greet(\"world\"))\n",
    "x = [[1, 2], [3, 4]]\ny = [5, 6, 7]\nz = [[8], [9, 10]]\n",
    "import os\n\nfor path in os.listdir('.'):\n    if path.endswith(\".py\"):\n        print(path)\n",
    "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n",
    "seen = set()\nwhile True:\n    line = input()\n    if line in seen:\n        break\n    seen.add(line)\n",
]


# ----------------------------------------------------------------------------------------------- weights

def to_compact(state: dict) -> tuple[dict, dict]:
    """Released-name state dict -> (tensors, metadata) with compact sparse tensors where density < 1/2."""
    tensors, meta = {}, {"format": FORMAT}
    for k, v in state.items():
        v = v.detach().to(torch.float32).contiguous().cpu()
        nnz = int((v != 0).sum())
        if v.dim() >= 1 and v.numel() > 0 and nnz < v.numel() / 2:
            flat = v.reshape(-1)
            idx = torch.nonzero(flat, as_tuple=False).reshape(-1)
            tensors[k + ".__indices"] = idx.to(torch.int32).contiguous()
            tensors[k + ".__values"] = flat[idx].contiguous()
            meta["sparse:" + k] = json.dumps(list(v.shape))
        else:
            tensors[k] = v.clone()
    return tensors, meta


def read_model_safetensors(path: str) -> dict:
    """Read a model.safetensors (compact tensors densified) -> {name: dense tensor}."""
    out = {}
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        keys = list(f.keys())
        for k in keys:
            if k.endswith(".__indices") or k.endswith(".__values"):
                continue
            out[k] = f.get_tensor(k)
        for mk, shape in meta.items():
            if not mk.startswith("sparse:"):
                continue
            name = mk[len("sparse:"):]
            shape = json.loads(shape)
            idx = f.get_tensor(name + ".__indices").to(torch.int64)
            val = f.get_tensor(name + ".__values").to(torch.float32)
            assert bool((idx[1:] > idx[:-1]).all()), "indices must be strictly increasing"
            dense = torch.zeros(int(np.prod(shape)), dtype=torch.float32)
            dense[idx] = val
            out[name] = dense.view(shape)
    return out


def export_state(model: GPT) -> dict:
    sd = {k: v for k, v in model.state_dict().items()}
    if model.cfg.tied_unembed:
        sd["lm_head.weight"] = sd["transformer.wte.weight"].clone()
    return sd


def load_model_folder(folder: str) -> GPT:
    with open(os.path.join(folder, "config.json")) as fh:
        cfg = GPTConfig.from_dict(json.load(fh))
    model = GPT(cfg)
    sd = read_model_safetensors(os.path.join(folder, "model.safetensors"))
    if "final_logits_bias" not in sd:
        sd["final_logits_bias"] = torch.zeros(cfg.vocab_size)
    model.load_state_dict(sd, strict=True)
    model.eval()
    return model


# ------------------------------------------------------------------------------------------------ checks

def _closer_ids(enc, q: str):
    """Token ids that close a string with quote q: q followed only by non-alphanumeric, non-quote chars."""
    other = "'" if q == '"' else '"'
    out = []
    for i in range(enc.n_vocab - 1):
        b = enc.decode_single_token_bytes(i)
        try:
            s = b.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if s.startswith(q) and not re.search(r"[\w" + other + q + "]", s[1:]):
            out.append(i)
    return out


def _token_starts(enc, ids):
    starts, pos = [], 0
    for i in ids:
        starts.append(pos)
        pos += len(enc.decode_single_token_bytes(i))
    return starts


@torch.no_grad()
def _logits_at(model: GPT, windows, batch=64):
    """Logits after the last token of each window (windows are id lists of length <= block_size)."""
    out = [None] * len(windows)
    order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
    for s in range(0, len(order), batch):
        chunk = order[s:s + batch]
        by_len = {}
        for i in chunk:
            by_len.setdefault(len(windows[i]), []).append(i)
        for L, idxs in by_len.items():
            x = torch.tensor([windows[i] for i in idxs], dtype=torch.long)
            lg = model(x)[:, -1, :]
            for j, i in enumerate(idxs):
                out[i] = lg[j]
    return out


@torch.no_grad()
def task_checks(model: GPT, enc, files, max_quote_cases=4000, seed=0):
    """Quote and bracket checks on held-out files (see model-card 'checks.method')."""
    T = model.cfg.block_size
    rb1, rb2 = enc.encode_single_token(b"]\n"), enc.encode_single_token(b"]]\n")
    closers = {"'": _closer_ids(enc, "'"), '"': _closer_ids(enc, '"')}
    closer_set = {q: set(v) for q, v in closers.items()}
    qcases, bcases = [], []
    for f in files:
        text = f["text"]
        quotes, lists = find_cases(text)
        if not quotes and not lists:
            continue
        ids = enc.encode_ordinary(text)
        starts = _token_starts(enc, ids)
        pos = {s: j for j, s in enumerate(starts)}
        # char offset -> byte offset
        def boff(c):
            return len(text[:c].encode("utf-8"))
        for c, q in quotes:
            j = pos.get(boff(c))
            if j is None or j == 0 or ids[j] not in closer_set[q]:
                continue
            qcases.append((ids[max(0, j - T):j], q))
        for c, d in lists:
            j = pos.get(boff(c))
            if j is None or j == 0 or ids[j] != (rb1 if d == 1 else rb2):
                continue
            bcases.append((ids[max(0, j - T):j], d))
    rng = random.Random(seed)
    if len(qcases) > max_quote_cases:
        qcases = rng.sample(qcases, max_quote_cases)
    model.eval()
    qlog = _logits_at(model, [w for w, _ in qcases])
    qok = {"'": [0, 0], '"': [0, 0]}
    for (w, q), lg in zip(qcases, qlog):
        other = "'" if q == '"' else '"'
        ok = lg[closers[q]].max() > lg[closers[other]].max()
        qok[q][0] += int(ok)
        qok[q][1] += 1
    blog = _logits_at(model, [w for w, _ in bcases])
    bok = {1: [0, 0], 2: [0, 0]}
    for (w, d), lg in zip(bcases, blog):
        right, wrong = (rb1, rb2) if d == 1 else (rb2, rb1)
        bok[d][0] += int(lg[right] > lg[wrong])
        bok[d][1] += 1
    acc = lambda a: a[0] / a[1] if a[1] else None  # noqa: E731
    qall = [qok["'"][0] + qok['"'][0], qok["'"][1] + qok['"'][1]]
    d1, d2 = acc(bok[1]), acc(bok[2])
    return {
        "split": "heldout",
        "quote": {"accuracy": acc(qall), "cases": qall[1],
                  "single": {"accuracy": acc(qok["'"]), "cases": qok["'"][1]},
                  "double": {"accuracy": acc(qok['"']), "cases": qok['"'][1]}},
        "bracket": {"depth1": {"accuracy": d1, "cases": bok[1][1]},
                    "depth2": {"accuracy": d2, "cases": bok[2][1]},
                    "accuracy": (d1 + d2) / 2 if d1 is not None and d2 is not None else None,
                    "pooled_accuracy": acc([bok[1][0] + bok[2][0], bok[1][1] + bok[2][1]])},
        "method": ("quote: single-line string literals in held-out files whose closing quote starts a token; "
                   "correct when the best closing-quote token of the right kind (the quote followed only by "
                   "non-alphanumeric characters) outscores the best one of the other kind. bracket: one-line "
                   "list literals ending a line whose final token is ']\\n' (depth 1) or ']]\\n' (depth 2); "
                   "correct when the right one of the two tokens outscores the other; accuracy = mean of the "
                   "depth-1 and depth-2 accuracies (balanced: depth 2 is rarer), pooled_accuracy = share of all "
                   "cases. Context: up to block_size tokens before the position."),
    }


# ------------------------------------------------------------------------------------------------ export

@torch.no_grad()
def compute_means(model: GPT, tokens: np.ndarray, n_windows=256, batch=32):
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
def val_loss(model: GPT, tokens: np.ndarray, n_windows=512, batch=64):
    T = model.cfg.block_size
    stride = max(1, (len(tokens) - T - 1) // n_windows)
    losses = []
    for b in range(0, n_windows, batch):
        x = torch.from_numpy(np.stack([np.asarray(tokens[i * stride:i * stride + T + 1], dtype=np.int64)
                                       for i in range(b, min(b + batch, n_windows))]))
        _, loss = model(x[:, :-1], x[:, 1:])
        losses.append(loss.item() * x.shape[0])
    return sum(losses) / n_windows


@torch.no_grad()
def golden(model: GPT, enc, prompts=GOLDEN_PROMPTS):
    tensors = {}
    for p, text in enumerate(prompts):
        ids = enc.encode_ordinary(text)[: model.cfg.block_size]
        x = torch.tensor([ids], dtype=torch.long)
        logits, rec = model.run_with_hooks(x)
        tensors[f"p{p}.tokens"] = torch.tensor(ids, dtype=torch.int32)
        tensors[f"p{p}.logits"] = logits[0].float().contiguous()
        for name, _ in hook_sites(model.cfg):
            tensors[f"p{p}.{name}"] = rec[name][0].float().contiguous()
    return tensors, {"prompts": json.dumps(prompts)}


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


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_run(run_dir: str) -> tuple[GPT, dict, dict]:
    ck = torch.load(os.path.join(run_dir, "ckpt.pt"), map_location="cpu")
    cfg = GPTConfig.from_dict(ck["config"])
    model = GPT(cfg)
    model.load_state_dict(ck["model"])
    model.eval()
    with open(os.path.join(run_dir, "train_args.json")) as fh:
        targs = json.load(fh)
    return model, ck, targs


def update_index(models_dir, entry, default=False):
    path = os.path.join(models_dir, "index.json")
    idx = {"models": []}
    if os.path.exists(path):
        with open(path) as fh:
            idx = json.load(fh)
    models = [m for m in idx.get("models", []) if m.get("id") != entry["id"]]
    if default:
        for m in models:
            m.pop("default", None)
        entry = dict(entry, default=True)
    models.append(entry)
    models.sort(key=lambda m: (not m.get("default", False), m["id"]))
    idx["models"] = models
    with open(path, "w") as fh:
        json.dump(idx, fh, indent=2)
        fh.write("\n")


def export(run_dir, model_id, name, out_root=None, dense_twin=None, default=False, tok_dir=None,
           data_dir=DATA, quick=False):
    out_root = out_root or os.path.join(ROOT, "public", "models")
    tok_dir = tok_dir or os.path.join(HERE, "tokenizer")
    out = os.path.join(out_root, model_id)
    os.makedirs(os.path.join(out, "tokenizer"), exist_ok=True)
    model, ck, targs = load_run(run_dir)
    cfg = model.cfg
    enc = load_tiktoken(tok_dir)
    dense = cfg.afrac is None and bool(targs.get("dense"))

    # config + weights
    with open(os.path.join(out, "config.json"), "w") as fh:
        json.dump(dict(cfg.to_dict(), tokenizer_name="py_bpe_2k"), fh, indent=2)
    tensors, meta = to_compact(export_state(model))
    save_file(tensors, os.path.join(out, "model.safetensors"), metadata=meta)
    for fn in ("encoder.json", "vocab.bpe"):
        shutil.copyfile(os.path.join(tok_dir, fn), os.path.join(out, "tokenizer", fn))
    with open(os.path.join(out, "tokenizer", "golden.json"), "w", encoding="utf-8") as fh:
        json.dump(tokenizer_golden(enc, data_dir=data_dir), fh, ensure_ascii=False)

    # check the written file reproduces the model
    back = load_model_folder(out)
    x = torch.tensor([enc.encode_ordinary(GOLDEN_PROMPTS[0])[:cfg.block_size]])
    assert torch.allclose(back(x), model(x), atol=1e-5), "round trip mismatch"

    val_tok = np.memmap(os.path.join(data_dir, "tokens_val.bin"), dtype=np.uint16, mode="r")
    means = compute_means(model, val_tok, n_windows=32 if quick else 256)
    save_file(means, os.path.join(out, "means.safetensors"), metadata={"format": FORMAT})
    gt, gmeta = golden(model, enc)
    save_file(gt, os.path.join(out, "golden.safetensors"), metadata=dict(gmeta, format=FORMAT))

    vl = val_loss(model, val_tok, n_windows=64 if quick else 512)
    heldout = list(load_files("heldout", data_dir))
    checks = task_checks(model, enc, heldout[:20] if quick else heldout, max_quote_cases=300 if quick else 2000)

    sp = sparsified_params(model)
    nz_sp = sum(int((p != 0).sum()) for _, p in sp)
    tot_sp = sum(p.numel() for _, p in sp)
    allp = {id(p): p for p in model.parameters()}.values()
    def pinned_threads(c):
        return "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 " + c if c.startswith("python ") else c
    cmd = " && ".join(pinned_threads(c) for c in targs.get("commands", [targs.get("command", "")]))
    card = {
        "id": model_id,
        "name": name,
        "kind": "dense" if dense else "sparse",
        "tokens_trained": int(ck["tokens"]),
        "steps": int(ck["step"]),
        "val_loss": vl,
        "nonzero_params": int(sum(int((p != 0).sum()) for p in allp)),
        "total_params": int(sum(p.numel() for p in allp)),
        "weight_l0_fraction": nz_sp / tot_sp,
        "sparsified_nonzero": nz_sp,
        "sparsified_total": tot_sp,
        "afrac": cfg.afrac,
        "train_command": cmd,
        "corpus_manifest_sha256": sha256_file(MANIFEST) if os.path.exists(MANIFEST) else None,
        "corpus": "CPython 3.11 standard library + numpy, scipy, pandas, sympy, networkx, matplotlib "
                  "(PyPI wheels, pinned in train/corpus_manifest.jsonl); split by file",
        "tokenizer": {"kind": "byte-level BPE, GPT-2 data-gym files", "vocab_size": enc.n_vocab,
                      "encoder_json_sha256": sha256_file(os.path.join(tok_dir, "encoder.json")),
                      "vocab_bpe_sha256": sha256_file(os.path.join(tok_dir, "vocab.bpe"))},
        "checks": checks,
    }
    if not dense and dense_twin:
        card["dense_twin"] = dense_twin
    with open(os.path.join(out, "model-card.json"), "w") as fh:
        json.dump(card, fh, indent=2)
        fh.write("\n")
    update_index(out_root, {"id": model_id, "name": name, "kind": card["kind"]}, default=default)
    for dirpath, _, files in os.walk(out):
        for fn in files:
            os.chmod(os.path.join(dirpath, fn), 0o644)
    return card


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--dense-twin", default=None)
    ap.add_argument("--default", action="store_true")
    ap.add_argument("--out-root", default=None)
    ap.add_argument("--quick", action="store_true", help="fewer windows/cases (smoke tests)")
    ap.add_argument("--snippets-tokens", type=int, default=0,
                    help="also write snippets.safetensors (train/snippets.py) scoring this many held-out tokens")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    card = export(args.run, args.id, args.name, args.out_root, args.dense_twin, args.default, quick=args.quick)
    if args.snippets_tokens:  # optional top-activating held-out snippets, see train/snippets.py
        from snippets import write_snippets
        write_snippets(os.path.join(args.out_root or os.path.join(ROOT, "public", "models"), args.id),
                       tokens=args.snippets_tokens)
    print(json.dumps({k: card[k] for k in ("id", "kind", "tokens_trained", "val_loss", "weight_l0_fraction",
                                           "checks")}, indent=2))


if __name__ == "__main__":
    main()
