"""What opened the inner bracket of a depth-2 list end (constructs.find_cases), and bracket_cases.py's report: it
covers exactly the check's depth-2 cases, each wrong one listed once with a non-positive margin."""
import os

import pytest
import torch

from bracket_cases import depth2_report
from constructs import find_cases
from model import GPT, GPTConfig
from tokenizer_train import load_tiktoken

TOKENIZER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tokenizer")


@pytest.mark.parametrize("line, inner", [
    ("pts = [[0., 1.], [1., 1.]]", "list"),
    ("M3 = G/[[1, x]]", "list"),
    ("z = [d[k], [3]]", "list"),
    ("ys = [y for y in [1, 2]]", "list"),  # a keyword before '[' opens a display
    ("s = ['a[', [1]]", "list"),  # a bracket inside a string is no bracket
    ("result = [args[0]]", "subscript"),
    ("patterns = [convert_path(w) for w in words[1:]]", "subscript"),
    ("x = [f()[2]]", "subscript"),
    ("y = [[1], a[0][1]]", "subscript"),
])
def test_a_depth2_list_end_says_what_opened_its_inner_bracket(line, inner):
    _, lists = find_cases(line + "\n")
    assert lists == [(len(line) - 2, 2, inner)]


def test_a_depth1_list_end_has_no_inner_bracket():
    _, lists = find_cases("x = [a, 2]\n")
    assert lists == [(len("x = [a, 2"), 1, None)]


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
