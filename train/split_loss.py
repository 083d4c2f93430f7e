"""Mean next-token loss of one or more checkpoints on token splits of a data folder, on the same evenly spaced windows
(``reference_runs.val_loss``, the measure export.py writes into the model card as ``val_loss``).

Its use: a model trained on the extended corpus (corpus.py --extended) is scored on ``val``, the base corpus's
validation split that every model here is compared on, and on ``val_extra``, the files of the added code bases that
no stage trains on, so that a change in one can be told from a change in the other.

    python train/split_loss.py --data train/data/extended --splits val val_extra \\
        --ckpt train/checkpoints/<id>/ckpt.pt [more checkpoints]
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from data_prep import load_tokens, token_path  # noqa: E402
from reference_runs import val_loss  # noqa: E402
from weights_file import load_model  # noqa: E402


def split_tokens(data_dir: str, split: str) -> np.ndarray:
    path = token_path(split, data_dir)
    if not os.path.exists(path):
        raise SystemExit(f"{path}: no such token file (train/data_prep.py --data {data_dir} writes it)")
    return load_tokens(split, data_dir)


def check_length(tokens: np.ndarray, context: int, split: str) -> None:
    if len(tokens) < context + 1:
        raise SystemExit(f"tokens_{split}.bin: {len(tokens)} tokens, fewer than a {context}-token window needs "
                         f"({context + 1})")


def split_losses(ckpts: list[str], data_dir: str, splits: list[str], windows: int = 512) -> dict:
    """{checkpoint: {split: mean loss}} over `windows` windows of each model's context per split."""
    tokens = {s: split_tokens(data_dir, s) for s in splits}
    out = {}
    for path in ckpts:
        model, _ = load_model(path)
        for s in splits:
            check_length(tokens[s], model.cfg.block_size, s)
        with torch.no_grad():
            out[path] = {s: round(val_loss(model, tokens[s], n_windows=windows), 4) for s in splits}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ckpt", nargs="+", required=True, help="checkpoints (a run's ckpt.pt or a slim weights file)")
    ap.add_argument("--data", default=os.path.join(HERE, "data"), help="folder of tokens_<split>.bin")
    ap.add_argument("--splits", nargs="+", default=["val"], help="splits to score (val, val_extra, heldout, ...)")
    ap.add_argument("--windows", type=int, default=512, help="windows per split (export.py's val_loss uses 512)")
    a = ap.parse_args(argv)
    if a.windows < 1:
        ap.error("--windows must be at least 1")
    print(json.dumps(split_losses(a.ckpt, a.data, a.splits, a.windows), indent=2))


if __name__ == "__main__":
    main()
