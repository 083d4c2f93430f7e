"""Which depth-2 cases of the model card's bracket check a model gets wrong, split by what opened the inner bracket:
a list literal (`[[1, 2], [3, 4]]`) or a subscript inside a list (`[args[0]]`, `[w for w in words[1:]]`).

    python train/bracket_cases.py --ckpt train/checkpoints/sparse-py-2l-d512-i/ckpt.pt

The check scores ']]\\n' against ']\\n' at the end of one-line list literals in the held-out files (task_checks.py);
this prints every depth-2 case the model gets wrong, with its margin (logit of the right token minus the wrong one),
and the count per kind."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from corpus import DATA, load_files  # noqa: E402
from task_checks import _closer_ids, _logits_at, check_cases  # noqa: E402
from tokenizer_train import load_tiktoken  # noqa: E402
from weights_file import load_model  # noqa: E402


def inner_bracket_kind(line: str) -> str:
    """'subscript' when the innermost bracket still open at the end of line follows a name, a call or another
    bracket's close (x[...], f()[...], a[0][...]); 'list' when it opens a list literal."""
    open_at = []
    for i, ch in enumerate(line):
        if ch == "[":
            open_at.append(i)
        elif ch == "]" and open_at:
            open_at.pop()
    if not open_at:
        raise ValueError(f"no bracket is open at the end of {line!r}")
    before = line[:open_at[-1]].rstrip()[-1:]
    return "subscript" if before.isalnum() or before in "_)]" else "list"


def depth2_report(model, enc, files) -> dict:
    closers = {"'": _closer_ids(enc, "'"), '"': _closer_ids(enc, '"')}
    _, bcases = check_cases(enc, files, model.cfg.block_size, closers)
    depth2 = [(w, line) for w, d, line in bcases if d == 2]
    rb1, rb2 = enc.encode_single_token(b"]\n"), enc.encode_single_token(b"]]\n")
    model.eval()
    logits = _logits_at(model, [w for w, _ in depth2])
    cases, wrong = Counter(), Counter()
    misses = []
    for (_, line), lg in zip(depth2, logits):
        kind = inner_bracket_kind(line)
        margin = float(lg[rb2] - lg[rb1])
        cases[kind] += 1
        if margin <= 0:
            wrong[kind] += 1
            misses.append({"kind": kind, "margin": round(margin, 2), "line": line.strip()})
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
