"""Train a byte-level BPE tokenizer (vocab 2048) on the corpus' train split and save it as GPT-2 "data-gym"
files (encoder.json + vocab.bpe) that tiktoken loads.

* Training uses HF ``tokenizers`` (BpeTrainer) with a Split pre-tokenizer (the tinypython pattern) followed by
  ByteLevel (no regex of its own).
* Ids 0..255 are the single bytes in GPT-2 data-gym order, id 256+i is the result of merge i, and
  ``<|endoftext|>`` is 2047. Encoding for training/export is done with tiktoken from those files.

Usage: python train/tokenizer_train.py --out train/data/tokenizer [--max-bytes 30000000]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

PAT_STR = r"""[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
EOT = "<|endoftext|>"
VOCAB_SIZE = 2048  # 256 bytes + 1791 merges + <|endoftext|>
# Tokens the task checks rank against each other; training warns if BPE did not learn them.
REQUIRED_TOKENS = [b"]\n", b"]]\n"]


def bytes_to_unicode():
    """GPT-2's byte -> printable unicode map (same as tiktoken's data_gym loader)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def data_gym_byte_order():
    """Byte order of ids 0..255 in tiktoken.load.data_gym_to_mergeable_bpe_ranks."""
    first = [b for b in range(256) if chr(b).isprintable() and chr(b) != " "]
    return first + [b for b in range(256) if b not in first]


def train_hf(texts, vocab_size=VOCAB_SIZE):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PAT_STR), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - 1, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def hf_merges(tok):
    model = json.loads(tok.to_str())["model"]
    merges = model["merges"]
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in merges]


def force_tokens(merges, required=REQUIRED_TOKENS):
    """Make sure every required token exists: replace the last (rarest) learned merges by merges that build it.

    A token t is built from a prefix/suffix split (a, b) where both are already tokens, preferring the split
    that BPE would actually reach (the lowest-ranked existing pair), so the trainer's and tiktoken's encoders agree.
    """
    b2u = bytes_to_unicode()
    u = lambda bs: "".join(b2u[x] for x in bs)  # noqa: E731
    merges = list(merges)
    forced = []
    for tb in required:
        have = {a + b: i for i, (a, b) in enumerate(merges + forced)}
        have.update({b2u[x]: -1 for x in range(256)})
        if u(tb) in have:
            continue
        splits = [(tb[:i], tb[i:]) for i in range(1, len(tb)) if u(tb[:i]) in have and u(tb[i:]) in have]
        assert splits, f"cannot build {tb!r}"
        a, b = min(splits, key=lambda s: max(have[u(s[0])], have[u(s[1])]))
        forced.append((u(a), u(b)))
    if forced:
        merges = merges[:len(merges) - len(forced)] + forced
        # dropped merges must not be needed by kept ones
        toks = set(b2u.values())
        for a, b in merges:
            assert a in toks and b in toks, (a, b)
            toks.add(a + b)
    return merges, forced


def hf_from_merges(merges):
    """The trainer library's own BPE encoder over the final merges (to compare with tiktoken)."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    b2u = bytes_to_unicode()
    vocab = {c: i for i, c in enumerate(b2u[b] for b in data_gym_byte_order())}
    for i, (a, b) in enumerate(merges):
        vocab[a + b] = 256 + i
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[(a, b) for a, b in merges]))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PAT_STR), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    return tok


def save_data_gym(merges, out_dir):
    """Write encoder.json + vocab.bpe in tiktoken's expected data-gym layout."""
    os.makedirs(out_dir, exist_ok=True)
    b2u = bytes_to_unicode()
    encoder = {}
    for i, b in enumerate(data_gym_byte_order()):
        encoder[b2u[b]] = i
    for i, (a, b) in enumerate(merges):
        s = a + b
        assert s not in encoder, f"duplicate token {s!r}"
        encoder[s] = 256 + i
    encoder[EOT] = len(encoder)
    with open(os.path.join(out_dir, "encoder.json"), "w", encoding="utf-8") as fh:
        json.dump(encoder, fh, ensure_ascii=False)
    with open(os.path.join(out_dir, "vocab.bpe"), "w", encoding="utf-8") as fh:
        fh.write("#version: 0.2\n")
        for a, b in merges:
            fh.write(f"{a} {b}\n")
    return encoder


def load_tiktoken(tok_dir: str):
    """tiktoken Encoding from encoder.json + vocab.bpe (via tiktoken's own data-gym loader)."""
    import tiktoken
    from tiktoken.load import data_gym_to_mergeable_bpe_ranks
    old = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = ""  # tiktoken caches by path; an empty dir disables that
    try:
        ranks = data_gym_to_mergeable_bpe_ranks(os.path.join(tok_dir, "vocab.bpe"),
                                                os.path.join(tok_dir, "encoder.json"))
    finally:
        if old is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = old
    return tiktoken.Encoding(name="tinypython_2k", pat_str=PAT_STR, mergeable_ranks=ranks,
                             special_tokens={EOT: len(ranks)})


def encode_doc(enc, text):
    return enc.encode_ordinary(text) + [enc.eot_token]


def compare(enc, hf_tok, texts):
    """Token-id agreement between tiktoken (data-gym files) and the trainer's own encoder, per text."""
    b2u = bytes_to_unicode()
    # map HF token string -> our id via bytes
    u2b = {v: k for k, v in b2u.items()}
    hf_vocab = {i: bytes(u2b[c] for c in s) for s, i in hf_tok.get_vocab().items()}
    same = 0
    for t in texts:
        a = [enc.decode_single_token_bytes(i) for i in enc.encode_ordinary(t)]
        b = [hf_vocab[i] for i in hf_tok.encode(t).ids]
        same += a == b
    return same, len(texts)


def compare_raw(hf_tok, merges, texts):
    """Before forcing: the trained tokenizer and a BPE rebuilt from its merge list encode identically."""
    rebuilt = hf_from_merges(merges)
    same = sum(hf_tok.encode(t).tokens == rebuilt.encode(t).tokens for t in texts)
    print(f"trained vs rebuilt-from-merges agreement: {same}/{len(texts)}")
    return same, len(texts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "tokenizer"))
    ap.add_argument("--max-bytes", type=int, default=30_000_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from corpus import load_files
    files = [f["text"] for f in load_files("train")]
    random.Random(args.seed).shuffle(files)
    texts, n = [], 0
    for t in files:
        texts.append(t)
        n += len(t)
        if n >= args.max_bytes:
            break
    print(f"training BPE on {len(texts)} files, {n} chars")
    hf_tok = train_hf(texts)
    merges = hf_merges(hf_tok)
    assert len(merges) == VOCAB_SIZE - 1 - 256, len(merges)
    same, n = compare_raw(hf_tok, merges, [f["text"] for f in load_files("val")][:50])
    merges, forced = force_tokens(merges)
    print("forced merges:", forced)
    save_data_gym(merges, args.out)
    hf_tok = hf_from_merges(merges)
    hf_tok.save(os.path.join(args.out, "hf-tokenizer.json"))
    enc = load_tiktoken(args.out)
    assert enc.n_vocab == VOCAB_SIZE
    for tb in REQUIRED_TOKENS:
        try:
            enc.encode_single_token(tb)
            print("token present:", tb)
        except KeyError:
            print("WARNING: token missing:", tb)
    val = [f["text"] for f in load_files("val")]
    same, n = compare(enc, hf_tok, val)
    print(f"tiktoken vs trainer agreement on val files: {same}/{n}")


if __name__ == "__main__":
    main()
