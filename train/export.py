"""Export a trained run to a model folder (docs/model-folder.md) and measure its task checks.

Usage:
  python train/export.py --run train/runs/sparse-py-2l --id sparse-py-2l --name "Sparse Python, 2 layers" \
      [--dense-twin dense-py-2l] [--default] [--snippets-tokens N]

Writes public/models/<id>/{config.json, model.safetensors, means.safetensors, golden.safetensors,
model-card.json, tokenizer/{encoder.json, vocab.bpe, golden.json}} and adds the model to public/models/index.json.
The folder format is train/model_folder.py's; what is computed by running the model, train/reference_runs.py's.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from corpus import DATA, MANIFEST, load_files  # noqa: E402
from data_prep import load_tokens  # noqa: E402
from model import GPT  # noqa: E402
from stages import read_train_args, training_stages  # noqa: E402
from model_folder import (FORMAT, make_readable, param_counts, round_trip_diff, sha256_file, update_index,  # noqa: E402
                          write_json, write_model)
from reference_runs import GOLDEN_PROMPTS, compute_means, golden, tokenizer_golden, val_loss  # noqa: E402
from snippets import write_snippets  # noqa: E402
from task_checks import task_checks  # noqa: E402
from tokenizer_train import load_tiktoken  # noqa: E402
from weights_file import load_model  # noqa: E402


def load_run(run_dir: str) -> tuple[GPT, dict, dict]:
    model, ck = load_model(os.path.join(run_dir, "ckpt.pt"))
    return model, ck, read_train_args(run_dir)


def export(run_dir, model_id, name, out_root=None, dense_twin=None, default=False, tok_dir=None,
           data_dir=DATA, quick=False):
    out_root = out_root or os.path.join(ROOT, "public", "models")
    tok_dir = tok_dir or os.path.join(HERE, "tokenizer")
    out = os.path.join(out_root, model_id)
    model, ck, targs = load_run(run_dir)
    cfg = model.cfg
    enc = load_tiktoken(tok_dir)
    dense = cfg.afrac is None and bool(targs.get("dense"))

    write_model(out, model, dict(cfg.to_dict(), tokenizer_name="py_bpe_2k"), tok_dir)
    with open(os.path.join(out, "tokenizer", "golden.json"), "w", encoding="utf-8") as fh:
        json.dump(tokenizer_golden(enc, data_dir=data_dir), fh, ensure_ascii=False)
    diff = round_trip_diff(out, model, enc.encode_ordinary(GOLDEN_PROMPTS[0])[:cfg.block_size])
    assert diff <= 1e-5, f"round trip mismatch (max |logit diff| {diff})"

    val_tok = load_tokens("val", data_dir)
    means = compute_means(model, val_tok, n_windows=32 if quick else 256)
    save_file(means, os.path.join(out, "means.safetensors"), metadata={"format": FORMAT})
    gt, gmeta = golden(model, enc, means=means)
    save_file(gt, os.path.join(out, "golden.safetensors"), metadata=dict(gmeta, format=FORMAT))

    vl = val_loss(model, val_tok, n_windows=64 if quick else 512)
    # The shipped 2-layer models have 64-token context; the same windows at 64 tokens make losses comparable.
    vl_by_context = {str(cfg.block_size): vl}
    if cfg.block_size > 64:
        vl_by_context["64"] = val_loss(model, val_tok, n_windows=64 if quick else 512, context=64)
    heldout = list(load_files("heldout", data_dir))
    checks = task_checks(model, enc, heldout[:20] if quick else heldout, max_quote_cases=300 if quick else 2000)

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
        "val_loss_by_context": vl_by_context,
        **param_counts(model),
        "afrac": cfg.afrac,
        "train_command": cmd,
        "corpus_manifest_sha256": sha256_file(MANIFEST) if os.path.exists(MANIFEST) else None,
        "corpus": "CPython 3.11 standard library + numpy, scipy, pandas, sympy, networkx, matplotlib "
                  "(PyPI wheels, pinned in train/corpus_manifest.jsonl); split by file",
        "tokenizer": {"kind": "byte-level BPE, GPT-2 data-gym files", "vocab_size": enc.n_vocab,
                      "encoder_json_sha256": sha256_file(os.path.join(tok_dir, "encoder.json")),
                      "vocab_bpe_sha256": sha256_file(os.path.join(tok_dir, "vocab.bpe"))},
        "checks": checks,
        "stages": training_stages(run_dir),
    }
    if not dense and dense_twin:
        card["dense_twin"] = dense_twin
    write_json(os.path.join(out, "model-card.json"), card)
    update_index(out_root, {"id": model_id, "name": name, "kind": card["kind"]}, default=default)
    make_readable(out)
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
        write_snippets(os.path.join(args.out_root or os.path.join(ROOT, "public", "models"), args.id),
                       tokens=args.snippets_tokens)
    print(json.dumps({k: card[k] for k in ("id", "kind", "tokens_trained", "val_loss", "weight_l0_fraction",
                                           "checks")}, indent=2))


if __name__ == "__main__":
    main()
