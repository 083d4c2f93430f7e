"""Which depth-2 cases of the model card's bracket check a model gets wrong, split by what opened the inner bracket:
a list literal (`[[1, 2], [3, 4]]`) or a subscript inside a list (`[args[0]]`, `[w for w in words[1:]]`).

    python train/bracket_cases.py --ckpt train/checkpoints/sparse-py-4l-d512-f/ckpt.pt

The check scores ']]\\n' against ']\\n' at the end of one-line list literals in the held-out files (task_checks.py);
this prints every depth-2 case the model gets wrong, with its margin (logit of the right token minus the wrong one),
and the count per kind (the kind is constructs.find_cases's, from Python's own tokenizer)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from corpus import DATA, load_files  # noqa: E402
from task_checks import _logits_at, bracket_closers, check_cases, quote_closers  # noqa: E402
from tokenizer_train import load_tiktoken  # noqa: E402
from weights_file import load_model  # noqa: E402


def depth2_report(model, enc, files) -> dict:
    _, bcases = check_cases(enc, files, model.cfg.block_size, quote_closers(enc))
    depth2 = [b for b in bcases if b.depth == 2]
    rb1, rb2 = bracket_closers(enc)
    model.eval()
    logits = _logits_at(model, [b.window for b in depth2])
    cases, wrong = Counter(), Counter()
    misses = []
    for b, lg in zip(depth2, logits):
        margin = float(lg[rb2] - lg[rb1])
        cases[b.inner] += 1
        if margin <= 0:
            wrong[b.inner] += 1
            misses.append({"kind": b.inner, "margin": round(margin, 2), "line": b.line.strip()})
    return {"depth2_cases": dict(cases), "wrong": dict(wrong), "misses": misses}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ckpt", required=True, help="a train.py checkpoint, full or slim (ckpt.pt)")
    ap.add_argument("--data", default=DATA, help="the folder holding the held-out files")
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "tokenizer"))
    args = ap.parse_args(argv)
    model, _ = load_model(args.ckpt)
    report = depth2_report(model, load_tiktoken(args.tokenizer), list(load_files("heldout", args.data)))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
