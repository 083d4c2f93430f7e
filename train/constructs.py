"""Find the Python constructs the tasks need, in real source text.

* string literals by quote kind: single-line, non-triple, unprefixed, non-empty ``'...'`` / ``"..."``;
* one-line list literals of depth 1 and 2 that end a logical line (``x = [1, 2]\\n`` / ``x = [[1, 2], [3]]\\n``);
* ``name = set()`` vs ``name = ""`` initialisations; ``while True`` vs ``return True``.

Positions are character offsets into the text, found with the standard ``tokenize`` module.
"""
from __future__ import annotations

import io
import keyword
import re
import tokenize
from collections import Counter

_INIT_SET = re.compile(r"^[ \t]*[A-Za-z_]\w* = set\(\)[ \t]*$", re.M)
_INIT_STR = re.compile(r"^[ \t]*[A-Za-z_]\w* = (?:\"\"|'')[ \t]*$", re.M)
_WHILE_TRUE = re.compile(r"\bwhile True\b")
_RETURN_TRUE = re.compile(r"\breturn True\b")


def _line_offsets(text: str):
    offs = [0, 0]  # tokenize rows are 1-based
    for line in text.splitlines(keepends=True):
        offs.append(offs[-1] + len(line))
    return offs


def find_cases(text: str):
    """Return (quotes, lists): quotes = [(offset_of_closing_quote, quote_char)],
    lists = [(offset_of_closing_bracket_run, depth, inner)] for depth 1 (``]``, inner None) and depth 2 (``]]``,
    inner "list" when the bracket closed just before the last one opened a list display, ``[[1], [2]]``, and
    "subscript" when it indexed something, ``[args[0]]``)."""
    quotes, lists = [], []
    offs = _line_offsets(text)
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError):
        return quotes, lists
    stack = []  # entries: [bracket, is_display, row, max_depth_inside]
    last_square_was_display = None  # of the '[' closed most recently
    prev = None
    for i, t in enumerate(toks):
        if t.type == tokenize.STRING:
            s = t.string
            if (len(s) >= 3 and s[0] in "'\"" and s[-1] == s[0] and t.start[0] == t.end[0]
                    and not s.startswith(s[0] * 3)):
                quotes.append((offs[t.end[0]] + t.end[1] - 1, s[0]))
        elif t.type == tokenize.OP and t.string in "([{":
            is_display = t.string == "[" and (
                prev is None or prev.type in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT)
                or (prev.type == tokenize.OP and prev.string not in (")", "]", "}"))
                or (prev.type == tokenize.NAME and keyword.iskeyword(prev.string)
                    and prev.string not in ("True", "False", "None")))
            stack.append([t.string, is_display, t.start[0], 0])
        elif t.type == tokenize.OP and t.string in ")]}":
            if not stack:
                break
            kind, is_display, row, inner = stack.pop()
            depth = inner + (1 if kind == "[" else 0)
            inner_kind = last_square_was_display
            if kind == "[":
                last_square_was_display = is_display
            if stack:
                stack[-1][3] = max(stack[-1][3], depth)
            elif (kind == "[" and is_display and row == t.start[0] and i + 1 < len(toks)
                  and toks[i + 1].type == tokenize.NEWLINE and toks[i + 1].string in ("\n", "\r\n")):
                off = offs[t.start[0]] + t.start[1]
                if depth == 1 and prev.string != "]":
                    lists.append((off, 1, None))
                elif depth == 2 and prev.type == tokenize.OP and prev.string == "]" and prev.end == t.start:
                    lists.append((off - 1, 2, "list" if inner_kind else "subscript"))
        if t.type not in (tokenize.COMMENT, tokenize.NL):
            prev = t
    return quotes, lists


def count_constructs(text: str) -> Counter:
    c = Counter()
    quotes, lists = find_cases(text)
    for _, q in quotes:
        c["str_single" if q == "'" else "str_double"] += 1
    for _, d, _ in lists:
        c[f"list_depth{d}_eol"] += 1
    c["init_set"] += len(_INIT_SET.findall(text))
    c["init_str"] += len(_INIT_STR.findall(text))
    c["while_true"] += len(_WHILE_TRUE.findall(text))
    c["return_true"] += len(_RETURN_TRUE.findall(text))
    return c
