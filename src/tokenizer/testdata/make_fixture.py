"""Regenerates the small tokenizer fixture (encoder.json, vocab.bpe, golden.json) in this folder.

A tiny byte-level BPE is trained on CORPUS with the tinypython split pattern, written in GPT-2 "data-gym" form, then
loaded with tiktoken's own data_gym_to_mergeable_bpe_ranks; golden.json holds tiktoken's encode_ordinary ids for
GOLDEN_TEXTS (as train/export.py writes them).
Run with the project's Python environment: .venv/bin/python src/tokenizer/testdata/make_fixture.py
"""
import json
import os
from collections import Counter

import regex
import tiktoken
from tiktoken.load import data_gym_to_mergeable_bpe_ranks

HERE = os.path.dirname(os.path.abspath(__file__))
PAT = r"""[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
N_MERGES = 120
CORPUS = """
def add(a, b):
    return a + b

def greet(name):
    print("hello " + name)
    return None

class Counter:
    def __init__(self):
        self.count = 0

    def increment(self, step=1):
        self.count += step
        return self.count

for i in range(10):
    if i % 2 == 0:
        print(i, "is even")
    else:
        print(i, "is odd")

x = [1, 2, 3, 100, 2024]
y = {"key": "value", "nums": x}
while x:
    x.pop()
""" * 3

GOLDEN_TEXTS = [
    "def add(a, b):\n    return a + b\n",
    "for i in range(100):\n\tprint(i)\r\n",
    "  leading spaces and trailing   ",
    "numbers 1234567 and 3.14159",
    "unicode: café naïve 日本語 😀 ½",
    "x=[1,2,3]//y\n\n\nz",
    "",
    " ",
    "<|endoftext|>def f():<|endoftext|>",
    "print('done')<|endoftext|>",
]


BYTE_ORDER = [b for b in range(256) if chr(b).isprintable() and chr(b) != " "]
BYTE_ORDER += [b for b in range(256) if b not in BYTE_ORDER]
DG = {}
n = 0
for b in range(256):
    if chr(b).isprintable() and chr(b) != " ":
        DG[b] = chr(b)
    else:
        DG[b] = chr(256 + n)
        n += 1


def dg(bs: bytes) -> str:
    return "".join(DG[b] for b in bs)


def train():
    words = Counter(tuple(bytes([b]) for b in w.encode()) for w in regex.findall(PAT, CORPUS))
    merges = []
    for _ in range(N_MERGES):
        pairs = Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        new = Counter()
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] += c
        words = new
    return merges


def main():
    merges = train()
    encoder = {DG[b]: r for r, b in enumerate(BYTE_ORDER)}
    for i, (a, b) in enumerate(merges):
        encoder[dg(a + b)] = 256 + i
    eot = 256 + len(merges)
    encoder["<|endoftext|>"] = eot
    enc_path, bpe_path = os.path.join(HERE, "encoder.json"), os.path.join(HERE, "vocab.bpe")
    with open(enc_path, "w", encoding="utf-8") as f:
        json.dump(encoder, f, ensure_ascii=False)
    with open(bpe_path, "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{dg(a)} {dg(b)}\n" for a, b in merges))
    ranks = data_gym_to_mergeable_bpe_ranks(vocab_bpe_file=bpe_path, encoder_json_file=enc_path)
    enc = tiktoken.Encoding("fixture", pat_str=PAT, mergeable_ranks=ranks, special_tokens={"<|endoftext|>": eot})
    golden = [{"text": t, "ids": enc.encode_ordinary(t)} for t in GOLDEN_TEXTS]
    with open(os.path.join(HERE, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
    print(f"{len(merges)} merges, eot={eot}")


if __name__ == "__main__":
    main()
