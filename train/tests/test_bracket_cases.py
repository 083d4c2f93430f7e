"""bracket_cases.py: which opener the innermost open bracket has, and that its depth-2 report covers exactly the
check's depth-2 cases, each wrong one listed once with a non-positive margin."""
import os

import pytest
import torch

from bracket_cases import depth2_report, inner_bracket_kind
from model import GPT, GPTConfig
from tokenizer_train import load_tiktoken

TOKENIZER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tokenizer")


@pytest.mark.parametrize("line, kind", [
    ("pts = [[0., 1.], [1., 1.", "list"),
    ("M3 = G/[[1, x", "list"),
    ("result = [args[0", "subscript"),
    ("patterns = [convert_path(w) for w in words[1:", "subscript"),
    ("x = [f()[2", "subscript"),
    ("y = [a[0][1", "subscript"),
    ("z = [d[k], [3", "list"),
])
def test_the_innermost_open_bracket_is_told_list_or_subscript(line, kind):
    assert inner_bracket_kind(line) == kind


def test_a_line_with_no_open_bracket_is_refused():
    with pytest.raises(ValueError, match="no bracket is open"):
        inner_bracket_kind("x = [1, 2]")


def test_the_report_counts_every_depth2_case_and_lists_each_miss():
    enc = load_tiktoken(TOKENIZER)
    text = "a = [[1, 2], [3, 4]]\nb = [args[0]]\nc = [1, 2]\nd = [[5], [6]]\n"
    torch.manual_seed(0)
    model = GPT(GPTConfig(n_layer=1, d_model=16, d_mlp=32, n_head=2, d_head=8, block_size=32,
                          vocab_size=enc.n_vocab)).eval()
    report = depth2_report(model, enc, [{"text": text}])
    assert report["depth2_cases"] == {"list": 2, "subscript": 1}
    assert sum(report["wrong"].values()) == len(report["misses"])
    assert all(m["margin"] <= 0 and m["kind"] in ("list", "subscript") for m in report["misses"])
