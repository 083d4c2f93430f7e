"""Construct focus finds the tasks' decisions in real code, at the token that makes them, and nothing else."""
import os

import numpy as np
import pytest

from construct_focus import (FORMS, construct_positions, decode_stream, form_positions, forms_with, parse_weights,
                             token_table)
from tokenizer_train import load_tiktoken

TOK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tokenizer")

# Every form at least once, plus look-alikes that are not the construct (other.add without an initialisation, else:).
CODE = '''import os
from collections import Counter
seen = set()
for item, value in enumerate(rows):
    if item == value:
        seen.add(item)
    elif item:
        label = "x" if item else "y"
for i in range(10):
    pass
out = set()
text = ""
with open(path) as fh:
    text += fh.read()
def helper(a, b):
    print(f"value {a}")
    helper(a, b)
    print("done")
pair = (1, 2)
items = [1, 2]
nested = [[1, 2], [3]]
flags = {a, b}
while True:
    return True
other.add(x)
else:
'''


def encoded(code: str):
    """(encoding, the code's tokens and an end-of-text token as a uint16 stream, as data_prep.py writes it)."""
    enc = load_tiktoken(TOK)
    return enc, np.array(enc.encode_ordinary(code) + [enc.eot_token], dtype=np.uint16)


@pytest.fixture(scope="module")
def stream():
    return encoded(CODE)


def found(enc, tokens, task, target):
    """Each place the form finds: its line as text up to the decision, and the target token there."""
    form = next(f for f in forms_with(["subscript_in_list", "quote_against_neighbours"])
                if f.task == task and f.target == target)
    text, starts = decode_stream(tokens, token_table(enc, 2048))
    out = []
    for p in form_positions(form, text, starts, tokens, enc.encode_ordinary(target)[0]):
        line_start = text.rfind("\n", 0, starts[p]) + 1
        out.append((text[line_start:starts[p]], enc.decode([int(tokens[p])])))
    return out


def test_decoded_offsets_point_at_each_token(stream):
    enc, tokens = stream
    text, starts = decode_stream(tokens, token_table(enc, 2048))
    assert text.startswith("import os\nfrom collections")
    for i in (0, 5, len(tokens) - 2):
        piece = enc.decode_single_token_bytes(int(tokens[i])).decode("latin-1")
        assert text[starts[i]:starts[i] + len(piece)] == piece


@pytest.mark.parametrize("task,target,expected", [
    ("enumerate_range", " en", [("for item, value in", " en")]),
    ("enumerate_range", " range", [("for i in", " range")]),
    ("if_equals", " ==", [("    if item", " ==")]),
    ("from_import", " import", [("from collections", " import")]),
    ("from_import", "\n", [("import os", "\n")]),
    ("with_as", " as", [("with open(path)", " as")]),
    ("def_or_call", "):\n", [("def helper(a, b", "):\n")]),
    # every one-line call statement is the call form, methods included
    ("def_or_call", ")\n", [("        seen.add(item", ")\n"), ("    helper(a, b", ")\n"), ("other.add(x", ")\n")]),
    ("if_ternary", " else", [('        label = "x" if item', " else")]),
    ("fstring_brace", "}", [('    print(f"value {a', "}")]),
    ("tuple_list", ")\n", [("pair = (1, 2", ")\n")]),
    ("bracket_counting", "]]\n", [("nested = [[1, 2], [3", "]]\n")]),
    ("bracket_brace", "}\n", [("flags = {a, b", "}\n")]),
    ("while_return_true", ":\n", [("while True", ":\n")]),
    ("while_return_true", "\n", [("    return True", "\n")]),
])
def test_each_form_is_found_where_its_prompt_would_end(stream, task, target, expected):
    enc, tokens = stream
    assert found(enc, tokens, task, target) == expected


def test_set_or_string_needs_the_initialisation_nearby(stream):
    enc, tokens = stream
    # seen.add follows "seen = set()"; other.add has no such line, so it is not the construct.
    assert found(enc, tokens, "set_or_string", ".add") == [("        seen", ".add")]
    assert found(enc, tokens, "set_or_string", " +=") == [("    text", " +=")]


def test_else_of_an_if_statement_is_not_a_ternary(stream):
    enc, tokens = stream
    assert all("label" in line for line, _ in found(enc, tokens, "if_ternary", " else"))


def test_construct_positions_hold_only_target_tokens(stream):
    enc, tokens = stream
    places = construct_positions(tokens, enc, 2048, log=lambda _m: None)
    targets = {enc.encode_ordinary(f.target)[0] for f in FORMS}
    assert len(places) >= 20  # nearly every form occurs in CODE
    for p in places:
        assert set(tokens[p].tolist()) <= targets


# The subscript_in_list forms: a subscript closing a list at a line end (two brackets open) and one closing a line
# outside any list (one open); look-alikes: an inner list display, a dict indexed by a subscript, a comment.
SUBSCRIPT_CODE = """first = [args[0]]
names = [w.strip() for w in words[1:]]
pairs = [x[i] for i in rows[2:]]
nested = [[1], [2]]
op = {"a": 1}[r[0]]
value = args[0]
tail = items[i][1:]
kept = [a[0]]  # first
"""


@pytest.fixture(scope="module")
def subscript_stream():
    return encoded(SUBSCRIPT_CODE)


def test_subscript_closing_a_list_is_found_and_look_alikes_are_not(subscript_stream):
    enc, tokens = subscript_stream
    assert found(enc, tokens, "subscript_in_list", "]]\n") == [
        ("first = [args[0", "]]\n"), ("names = [w.strip() for w in words[1:", "]]\n"),
        ("pairs = [x[i] for i in rows[2:", "]]\n")]


def test_subscript_closing_a_line_outside_lists_is_the_twin(subscript_stream):
    enc, tokens = subscript_stream
    # "op = {...}[r[0]" has two brackets open (the dict's subscript and r's), so it is neither form.
    assert found(enc, tokens, "subscript_in_list", "]\n") == [("value = args[0", "]\n"), ("tail = items[i][1:", "]\n")]


def test_extra_forms_are_added_after_the_task_forms_only_when_named(subscript_stream):
    enc, tokens = subscript_stream
    assert forms_with() == FORMS and forms_with(None) == FORMS
    assert forms_with(["subscript_in_list"])[:len(FORMS)] == FORMS
    assert len(forms_with(["subscript_in_list"])) == len(FORMS) + 2
    with pytest.raises(ValueError, match="unknown extra focus forms"):
        forms_with(["nope"])
    with pytest.raises(ValueError, match="named twice"):
        forms_with(["subscript_in_list", "subscript_in_list"])
    plain = construct_positions(tokens, enc, 2048, log=lambda _m: None)
    extra = construct_positions(tokens, enc, 2048, log=lambda _m: None, extra=["subscript_in_list"])
    assert [p.tolist() for p in extra[:len(plain)]] == [p.tolist() for p in plain]
    assert len(extra) == len(plain) + 2


def test_a_weighted_task_lists_each_of_its_forms_that_many_times(stream):
    enc, tokens = stream
    text, starts = decode_stream(tokens, token_table(enc, 2048))
    per_form = [(f.task, form_positions(f, text, starts, tokens, enc.encode_ordinary(f.target)[0]).tolist())
                for f in FORMS]
    assert all(pos for task, pos in per_form if task == "bracket_brace")  # the fixture holds both its forms
    weighted = construct_positions(tokens, enc, 2048, log=lambda _m: None, weights={"bracket_brace": 3})
    # in form order, each non-empty form once, bracket_brace's three times over
    expected = [pos for task, pos in per_form if pos for _ in range(3 if task == "bracket_brace" else 1)]
    assert [p.tolist() for p in weighted] == expected
    assert len(weighted) == len(construct_positions(tokens, enc, 2048, log=lambda _m: None)) + 4


def test_focus_weights_are_parsed_strictly():
    assert parse_weights(None) == {} and parse_weights([]) == {}
    assert parse_weights(["def_or_call=3", "fstring_brace=2"]) == {"def_or_call": 3, "fstring_brace": 2}
    for bad, said in [("def_or_call", "not TASK=N"), ("def_or_call=0", "not TASK=N"), ("def_or_call=1.5", "not TASK=N"),
                      ("def_or_call=-2", "not TASK=N"), ("brackets=2", "unknown task 'brackets'")]:
        with pytest.raises(ValueError, match=said):
            parse_weights([bad])
    with pytest.raises(ValueError, match="weighted twice"):
        parse_weights(["def_or_call=2", "def_or_call=3"])
    assert parse_weights(["subscript_in_list=2"], forms_with(["subscript_in_list"])) == {"subscript_in_list": 2}
    with pytest.raises(ValueError, match="unknown task 'subscript_in_list'"):
        parse_weights(["subscript_in_list=2"])


# The quote_against_neighbours forms: a string opened with the other quote than the line before's strings; look-alikes:
# a line whose strings agree with the one before, a line before holding both quotes, a comment line before. Each string
# closes before " +" so that its closing quote is a token of its own, as the forms' target.
QUOTE_CODE = """names = ['a', 'b']
label = "first" + x
kind = 'same' + x
other = 'same again' + x
mixed = ['x', "y"]
title = 'after mixed' + x
# it's a comment
note = "after a comment" + x
codes = {"k": 1}
tag = 'K' + x
"""


@pytest.fixture(scope="module")
def quote_stream():
    return encoded(QUOTE_CODE)


def test_a_string_against_the_quotes_of_the_line_before_is_found(quote_stream):
    enc, tokens = quote_stream
    assert found(enc, tokens, "quote_against_neighbours", '"') == [('label = "first', '"')]
    assert found(enc, tokens, "quote_against_neighbours", "'") == [("kind = 'same", "'"), ("tag = 'K", "'")]
