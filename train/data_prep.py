"""Tokenize the corpus splits into flat uint16 token files (documents separated by <|endoftext|>).

Usage: python train/data_prep.py [--tok train/data/tokenizer] [--data train/data]
Writes <data>/tokens_<split>.bin (uint16) for train, val, heldout, and for val_extra where the folder has it (the
extended corpus, corpus.py --extended).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from corpus import DATA, SPLITS, VAL_EXTRA, load_files  # noqa: E402
from tokenizer_train import load_tiktoken  # noqa: E402


def tokenize_split(enc, split: str, data_dir: str = DATA) -> np.ndarray:
    texts = [f["text"] for f in load_files(split, data_dir)]
    out = []
    for ids in enc.encode_ordinary_batch(texts, num_threads=2):
        out.extend(ids)
        out.append(enc.eot_token)
    arr = np.asarray(out, dtype=np.uint16)
    arr.tofile(token_path(split, data_dir))
    return arr


def token_path(split: str, data_dir: str = DATA) -> str:
    """Where a split's token file lives: tokens_<split>.bin, uint16 token ids."""
    return os.path.join(data_dir, f"tokens_{split}.bin")


def load_tokens(split: str, data_dir: str = DATA) -> np.ndarray:
    return np.memmap(token_path(split, data_dir), dtype=np.uint16, mode="r")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tok", default=os.path.join(HERE, "tokenizer"))
    ap.add_argument("--data", default=DATA)
    args = ap.parse_args()
    enc = load_tiktoken(args.tok)
    extra = (VAL_EXTRA,) if os.path.exists(os.path.join(args.data, f"files_{VAL_EXTRA}.jsonl")) else ()
    for s in SPLITS + extra:
        arr = tokenize_split(enc, s, args.data)
        print(f"{s}: {len(arr)} tokens")


if __name__ == "__main__":
    main()
