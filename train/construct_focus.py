"""Task constructs in the training stream: the token positions where real training code makes one of the tasks'
decisions, for placing focus windows on them (``train.py --focus-constructs``).

``--focus-tasks`` places windows on every occurrence of a task's target token. For punctuation tasks that is close to
the construct (``]]\\n`` mostly ends a depth-2 list), but for tokens like ``" else"``, ``" in"`` or ``".add"`` almost
every occurrence is some other construct (``else:``, ``x in y``, ``s.add`` far from ``s = set()``), so the decision
the task asks about stays as rare in the batches as in the text. Here each task's two forms are regular expressions
over the decoded training text, written from the task definitions in ``src/tasks/`` (statement, literal and template
tasks): a match ends exactly where the task's prompt would end, and the position counts only if the next token is
the form's target token. Nothing is synthesised; every window is real training-split code.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

NAME = r"[A-Za-z_]\w*"
DOTTED = r"[A-Za-z_][\w.]*"
IND = r"^[ \t]*"


@dataclass(frozen=True)
class Form:
    task: str
    target: str  # the token that follows the decision
    pattern: str  # matched with re.M over the decoded text; the match ends at the decision
    # For set_or_string: the name the match captured must have been initialised this way within `init_window` chars.
    init: str | None = None
    init_window: int = 600


# Each task's two forms, in the order of the task's `targets` (form 0, form 1).
FORMS: tuple[Form, ...] = (
    Form("while_return_true", ":\n", IND + r"while True(?=:\n)"),
    Form("while_return_true", "\n", IND + r"return True(?=\n)"),
    Form("if_ternary", " else", IND + DOTTED + r" = [^#\n]+? if [^#:\n]+?\w(?= else\b)"),
    Form("if_ternary", ":\n", IND + r"if [^#:\n]+?\w(?=:\n)"),
    Form("if_equals", " ==", IND + r"(?:el)?if " + DOTTED + r"(?= == )"),
    Form("if_equals", " =", IND + DOTTED + r"(?= = )"),
    Form("with_as", " as", IND + r"with " + DOTTED + r"(?:\([^()#\n]*\))?(?= as \w+:)"),
    Form("with_as", " in", IND + r"for \w+(?:, \w+)*(?= in )"),
    Form("def_or_call", "):\n", IND + r"def \w+\([^()#:'\"\n]*(?=\):\n)"),
    Form("def_or_call", ")\n", IND + DOTTED + r"\([^()#:'\"=\n]*(?=\)\n)"),
    Form("from_import", " import", IND + r"from " + DOTTED + r"(?= import )"),
    Form("from_import", "\n", IND + r"import " + DOTTED + r"(?=\n)"),
    Form("enumerate_range", " en", IND + r"for \w+, \w+ in(?= enumerate\()"),
    Form("enumerate_range", " range", IND + r"for \w+ in(?= range\()"),
    Form("single_double_quote", '"', r"(?:^|(?<=[^\"'\w\\]))\"[^\"'\\\n]{1,40}(?=\")"),
    Form("single_double_quote", "'", r"(?:^|(?<=[^\"'\w\\]))'[^\"'\\\n]{1,40}(?=')"),
    Form("fstring_brace", "}", r"\bf\"[^\"{}\\\n]*\{" + DOTTED + r"(?=\})"),
    Form("fstring_brace", '")\n', r"\"[^\"{}\\\n]*(?=\"\)\n)"),
    Form("bracket_brace", "]\n", IND + DOTTED + r" = \[[^\[\]{}:#'\"\n]*\w(?=\]\n)"),
    Form("bracket_brace", "}\n", IND + DOTTED + r" = \{[^\[\]{}:#'\"\n]*\w(?=\}\n)"),
    Form("tuple_list", ")\n", IND + DOTTED + r" = \([^\[\](){}:#'\"\n]*,[^\[\](){}:#'\"\n]*\w(?=\)\n)"),
    Form("tuple_list", "]\n", IND + DOTTED + r" = \[[^\[\](){}:#'\"\n]*,[^\[\](){}:#'\"\n]*\w(?=\]\n)"),
    Form("bracket_counting", "]]\n", IND + DOTTED + r" ?= ?\[\[[^\n#'\"]*?(?=\]\]\n)"),
    Form("bracket_counting", "]\n", IND + DOTTED + r" ?= ?\[[^\[\]\n#'\"]*(?=\]\n)"),
    Form("set_or_string", ".add", IND + r"(" + NAME + r")(?=\.add\()", init=r"= set\(\)"),
    Form("set_or_string", " +=", IND + r"(" + NAME + r")(?= \+= )", init=r"= (?:\"\"|'')"),
)

# Forms beyond the tasks', by name (``train.py --focus-extra NAME``); each named set adds its forms to the uniform
# choice, so a stage run without it draws exactly as before.
#
# subscript_in_list: the model card's bracket check closes one-line lists at depth 2, and some of those close a
# subscript inside a list (``[args[0]]``, ``[f(w) for w in words[1:]]``), which no model trained on the task forms
# alone gets right: it answers ``]\n`` as if the subscript's bracket were the only one open (bracket_cases.py). Its
# two forms are that decision and its everyday twin, a subscript closing a line outside any list (``x = args[0]``),
# so that windows ask "one bracket open or two" equally often either way. Other brackets on the line must close where
# they open (one level), and comments are skipped, so that the count of open brackets is what the match shows.
_NOBR = r"[^\[\]\n#]*"  # no bracket and no comment
_PAIRS = r"(?:[^\[\]\n#]|\[[^\[\]\n#]*\])*"  # and closed one-level bracket pairs (`x[i]`, `[1, 2]`)


# quote_against_neighbours: single_double_quote's edited prompts open a string with the other quote than the lines
# around it, and the models here close it with the neighbours' quote (side b 0.60-0.63 for the d_model 512 model,
# task_eval.py --by-side) although real code, where the two mostly agree, is right 0.99 of the time
# (construct_accuracy.py). These forms are the real strings that disagree with the line before: its string literals
# are in the other quote, and the string is the first on its line, so the opening quote is all that tells which quote
# closes it.
def _after_line_quoted_with(quote: str) -> str:
    """A line holding a string literal in `quote` and no quote of the other kind and no comment, then the start of the
    next line up to its first quote. Matches are taken without overlap, so where the two quotes alternate line after
    line every other string is found: few places, and no wrong ones."""
    other = "'" if quote == '"' else '"'
    return (r"^[^\n" + other + r"#]*" + quote + r"[^" + quote + r"\n]*" + quote + r"[^\n" + other + r"#]*\n"
            r"[^\n'\"#]*")


EXTRA_FORMS: dict[str, tuple[Form, ...]] = {
    "subscript_in_list": (
        Form("subscript_in_list", "]]\n",
             IND + _PAIRS + r"(?<![\w)\]}])\[" + _PAIRS + r"(?<=[\w)\]])\[" + _NOBR + r"(?=\]\]\n)"),
        Form("subscript_in_list", "]\n", IND + _PAIRS + r"(?<=[\w)\]])\[" + _NOBR + r"(?=\]\n)"),
    ),
    "quote_against_neighbours": (
        Form("quote_against_neighbours", '"', _after_line_quoted_with("'") + r'"[^"\'\\\n]{1,40}(?=")'),
        Form("quote_against_neighbours", "'", _after_line_quoted_with('"') + r"'[^\"'\\\n]{1,40}(?=')"),
    ),
}


def forms_with(extra: tuple[str, ...] | list[str] | None = None) -> tuple[Form, ...]:
    """The task forms followed by the named extra sets' (unknown names refused, each name once)."""
    extra = list(extra or [])
    unknown = [n for n in extra if n not in EXTRA_FORMS]
    if unknown:
        raise ValueError(f"unknown extra focus forms {unknown}; known: {sorted(EXTRA_FORMS)}")
    if len(set(extra)) != len(extra):
        raise ValueError(f"extra focus forms named twice: {extra}")
    return FORMS + tuple(f for name in extra for f in EXTRA_FORMS[name])


def token_table(enc, vocab_size: int) -> list[bytes]:
    """Each token id's bytes; ids past the encoding's vocabulary (a padded vocab_size) read as a newline.

    The end-of-text token decodes as ``<|endoftext|>``, so a document's first line does not start at a line start
    and the ``^``-anchored forms skip it (measured on the training split: 1,685 of 697,414 places, 1,636 of them
    ``from_import``'s). Stage 4 was trained with these places; mapping the token to a newline would change its
    recorded data order."""
    out = []
    for i in range(vocab_size):
        try:
            out.append(enc.decode_single_token_bytes(i))
        except KeyError:
            out.append(b"\n")
    return out


def decode_stream(tokens: np.ndarray, table: list[bytes]) -> tuple[str, np.ndarray]:
    """The stream as text (latin-1, so one character per byte) and each token's starting character offset."""
    lengths = np.array([len(b) for b in table], dtype=np.int64)[np.asarray(tokens, dtype=np.int64)]
    starts = np.zeros(len(tokens), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    text = b"".join(table[t] for t in np.asarray(tokens).tolist()).decode("latin-1")
    return text, starts


def form_positions(form: Form, text: str, starts: np.ndarray, tokens: np.ndarray, target_id: int) -> np.ndarray:
    """Stream indices of the tokens that follow a match of `form` and are its target token."""
    ends = []
    for m in re.finditer(form.pattern, text, flags=re.M):
        if form.init is not None:
            before = text[max(0, m.start() - form.init_window):m.start()]
            if not re.search(r"(?:^|[^\w.])" + re.escape(m.group(1)) + r" " + form.init, before):
                continue
        ends.append(m.end())
    if not ends:
        return np.zeros(0, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    idx = np.searchsorted(starts, ends)
    ok = idx < len(starts)
    idx, ends = idx[ok], ends[ok]
    ok = (starts[idx] == ends) & (np.asarray(tokens)[idx] == target_id)
    return np.unique(idx[ok])


def target_id(enc, text: str, task: str) -> int:
    """The one token id of a form's target (`task` names it in the refusal of a target that is not one token)."""
    ids = enc.encode_ordinary(text)
    if len(ids) != 1:
        raise ValueError(f"{task}: target {text!r} is {len(ids)} tokens, not one")
    return ids[0]


def parse_weights(specs: list[str] | None, forms: tuple[Form, ...] = FORMS) -> dict[str, int]:
    """``TASK=N`` strings (``train.py --focus-weight``) as {task: N}: N a whole number >= 1, TASK one of `forms`'
    tasks, each task once. Whole numbers because a weight is how many times its forms stand in the uniform choice."""
    known = sorted({f.task for f in forms})
    weights: dict[str, int] = {}
    for spec in specs or []:
        task, sep, n = spec.partition("=")
        if not sep or not n.strip().isdigit() or int(n) < 1:
            raise ValueError(f"{spec!r} is not TASK=N with N a whole number >= 1")
        if task not in known:
            raise ValueError(f"unknown task {task!r}; known: {known}")
        if task in weights:
            raise ValueError(f"task {task!r} weighted twice")
        weights[task] = int(n)
    return weights


def construct_positions(tokens: np.ndarray, enc, vocab_size: int, log=print,
                        extra: tuple[str, ...] | list[str] | None = None,
                        weights: dict[str, int] | None = None) -> list[np.ndarray]:
    """One array of stream positions per task form and named extra form (empty forms dropped), for `get_batch`'s
    uniform choice: every form is then equally often the focus of a window. A task in `weights` has each of its
    forms' arrays listed N times, so its forms are N times as often the focus as another task's (both its sides
    alike, so the task stays balanced within itself)."""
    forms = forms_with(extra)
    weights = weights or {}
    text, starts = decode_stream(tokens, token_table(enc, vocab_size))
    out = []
    for form in forms:
        pos = form_positions(form, text, starts, tokens, target_id(enc, form.target, form.task))
        n = weights.get(form.task, 1)
        log(f"construct focus: {form.task} {form.target!r}: {len(pos):,} places" + (f", weight {n}" if n > 1 else ""))
        if len(pos):
            out.extend([pos] * n)
    return out
