import glob
import json
import os

import pytest

from conftest import TRAIN
from tokenizer_train import (EOT, PAT_STR, bytes_to_unicode, data_gym_byte_order, force_tokens, hf_from_merges,
                             hf_merges, load_tiktoken, save_data_gym, train_hf)

ROOT = os.path.dirname(TRAIN)


def sources():
    return [open(p, encoding="utf-8").read() for p in sorted(glob.glob(os.path.join(TRAIN, "*.py")))]


def test_trained_tokenizer_agrees_with_tiktoken(tmp_path):
    texts = sources()
    train, val = texts[::2], texts[1::2] + ["héllo = 'wörld' # ✓ λ 😀\r\n\tx = [[1, 2]]\n"]
    hf_tok = train_hf(train, vocab_size=600)
    merges = hf_merges(hf_tok)
    assert len(merges) == 600 - 1 - 256
    # the trainer's own encoder and a BPE rebuilt from its merge list agree before any change
    rebuilt = hf_from_merges(merges)
    assert all(hf_tok.encode(t).tokens == rebuilt.encode(t).tokens for t in val)
    merges, _ = force_tokens(merges)
    save_data_gym(merges, tmp_path)
    enc = load_tiktoken(str(tmp_path))
    assert enc.n_vocab == 600 and enc.eot_token == 599
    assert enc.encode_single_token(b"]]\n") >= 256 and enc.encode_single_token(b"]\n") >= 256
    hf = hf_from_merges(merges)
    u2b = {v: k for k, v in bytes_to_unicode().items()}
    for t in val:
        a = [enc.decode_single_token_bytes(i) for i in enc.encode_ordinary(t)]
        b = [bytes(u2b[c] for c in s) for s in hf.encode(t).tokens]
        assert a == b
        assert enc.encode_ordinary(t) == hf.encode(t).ids
        assert enc.decode(enc.encode_ordinary(t)) == t


def test_data_gym_layout(tmp_path):
    save_data_gym([("Ġ", "t"), ("Ġt", "h")], tmp_path)
    enc_json = json.load(open(tmp_path / "encoder.json", encoding="utf-8"))
    order = data_gym_byte_order()
    b2u = bytes_to_unicode()
    assert [enc_json[b2u[b]] for b in order] == list(range(256))
    assert order[:3] == [ord("!"), ord('"'), ord("#")] and ord(" ") not in order[:188]
    assert enc_json["Ġt"] == 256 and enc_json["Ġth"] == 257 and enc_json[EOT] == 258
    lines = open(tmp_path / "vocab.bpe", encoding="utf-8").read().splitlines()
    assert lines == ["#version: 0.2", "Ġ t", "Ġt h"]


def test_shipped_tokenizer():
    enc = load_tiktoken(os.path.join(TRAIN, "tokenizer"))
    assert enc.n_vocab == 2048 and enc.eot_token == 2047
    assert [enc.decode_single_token_bytes(i) for i in range(256)] == [bytes([b]) for b in data_gym_byte_order()]
    for t in (b"]\n", b"]]\n", b"'", b'"'):
        enc.encode_single_token(t)
    assert enc._pat_str == PAT_STR
    for g in glob.glob(os.path.join(ROOT, "public", "models", "*", "tokenizer", "golden.json")):
        for case in json.load(open(g, encoding="utf-8")):
            assert enc.encode_ordinary(case["text"]) == case["ids"], g


@pytest.mark.parametrize("text", ["x = [[1, 2], [3, 4]]\n", "s = 'abc'\n", "print(\"hi\")\n"])
def test_task_tokens(text):
    enc = load_tiktoken(os.path.join(TRAIN, "tokenizer"))
    ids = enc.encode_ordinary(text)
    assert enc.decode(ids) == text
    if text.endswith("]]\n"):
        assert ids[-1] == enc.encode_single_token(b"]]\n")
