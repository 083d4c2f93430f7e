"""The quote and bracket checks of a model card: measured on held-out files, at the positions where a string closes
or a one-line list literal ends (the method is written into the card as checks.method)."""
from __future__ import annotations

import random
import re
from typing import NamedTuple

import torch

from constructs import find_cases
from model import GPT


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


class BracketCase(NamedTuple):
    window: list  # up to block_size token ids before the closing token
    depth: int  # 1 (']\n' is right) or 2 (']]\n' is right)
    inner: str | None  # depth 2: what opened the bracket closed first, "list" or "subscript" (constructs.find_cases)
    line: str  # the text of its line before the closing token


def quote_closers(enc) -> dict:
    """Per quote character, the token ids that close a string with it."""
    return {"'": _closer_ids(enc, "'"), '"': _closer_ids(enc, '"')}


def bracket_closers(enc) -> tuple[int, int]:
    """The token ids of ']\n' and ']]\n', the bracket check's two answers."""
    return enc.encode_single_token(b"]\n"), enc.encode_single_token(b"]]\n")


def check_cases(enc, files, T: int, closers: dict):
    """The checks' cases in files, in file order: quote cases (window, quote) and BracketCases, where window is up to
    T token ids before the closing token."""
    rb1, rb2 = bracket_closers(enc)
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
        for c, d, inner in lists:
            j = pos.get(boff(c))
            if j is None or j == 0 or ids[j] != (rb1 if d == 1 else rb2):
                continue
            bcases.append(BracketCase(ids[max(0, j - T):j], d, inner, text[:c].rsplit("\n", 1)[-1]))
    return qcases, bcases


@torch.no_grad()
def task_checks(model: GPT, enc, files, max_quote_cases=4000, seed=0):
    """Quote and bracket checks on held-out files (see model-card 'checks.method')."""
    rb1, rb2 = bracket_closers(enc)
    closers = quote_closers(enc)
    qcases, bcases = check_cases(enc, files, model.cfg.block_size, closers)
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
    blog = _logits_at(model, [b.window for b in bcases])
    bok = {1: [0, 0], 2: [0, 0]}
    for b, lg in zip(bcases, blog):
        right, wrong = (rb1, rb2) if b.depth == 1 else (rb2, rb1)
        bok[b.depth][0] += int(lg[right] > lg[wrong])
        bok[b.depth][1] += 1
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
