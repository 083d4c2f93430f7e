"""construct_accuracy scores each task form at its real-code places, with the window right before the place, against
the task's other answer."""
import numpy as np
import pytest
import torch

from construct_accuracy import FormResult, balanced, by_task, construct_accuracy, partner_targets, table
from construct_focus import FORMS, Form, forms_with
from test_construct_focus import CODE, TOK
from tokenizer_train import load_tiktoken

BLOCK = 8


class Config:
    block_size = BLOCK
    vocab_size = 2048


class Favouring(torch.nn.Module):
    """Logits that put `token` first and every other token at zero; records the windows it is given."""

    def __init__(self, token: int | None):
        super().__init__()
        self.cfg, self.token, self.windows = Config(), token, []

    def forward(self, x):
        self.windows.extend(x.tolist())
        logits = torch.zeros(*x.shape, self.cfg.vocab_size)
        if self.token is not None:
            logits[..., self.token] = 1.0
        return logits


@pytest.fixture(scope="module")
def enc():
    return load_tiktoken(TOK)


def stream(enc, repeats: int = 3, code: str = CODE) -> np.ndarray:
    """The code (the construct-focus test code by default) a few times over, so that every form has places past the
    first window."""
    return np.array((enc.encode_ordinary(code) + [enc.eot_token]) * repeats, dtype=np.uint16)


def test_each_form_is_scored_against_its_tasks_other_answer():
    partners = partner_targets(FORMS)
    for i, form in enumerate(FORMS):
        twin = FORMS[i + 1] if i % 2 == 0 else FORMS[i - 1]
        assert twin.task == form.task and partners[i] == twin.target
    with pytest.raises(ValueError, match="exactly two"):
        partner_targets(FORMS[:3])


def test_a_model_that_always_gives_one_answer_is_right_on_that_form_only(enc):
    tokens = stream(enc)
    task = "while_return_true"
    forms = tuple(f for f in FORMS if f.task == task)
    colon = enc.encode_ordinary(":\n")[0]
    results = construct_accuracy(Favouring(colon), tokens, enc, forms=forms)
    while_true, return_true = results
    assert (while_true.target, return_true.target) == (":\n", "\n")
    # CODE has one `while True` and one `return True`; three copies, none in the first window.
    assert while_true.places == return_true.places == 3
    assert (while_true.correct, return_true.correct) == (3, 0)
    assert balanced(by_task(results)[task]) == 0.5


def test_a_tie_counts_as_wrong(enc):
    results = construct_accuracy(Favouring(None), stream(enc), enc)
    assert all(r.correct == 0 for r in results)
    assert sum(r.scored for r in results) > 0


def test_each_window_is_the_block_before_the_place(enc):
    tokens = stream(enc)
    model = Favouring(None)
    form = next(f for f in FORMS if f.task == "def_or_call" and f.target == "):\n")
    twin = next(f for f in FORMS if f.task == "def_or_call" and f.target == ")\n")
    (r, _) = construct_accuracy(model, tokens, enc, forms=(form, twin))
    target = enc.encode_ordinary("):\n")[0]
    windows = model.windows[:r.scored]
    assert r.scored == 3 and all(len(w) == BLOCK for w in windows)
    for w in windows:
        # The window ends on the token before a `):\n` of `def helper(a, b` and holds nothing of what follows.
        ends = [p for p in range(BLOCK, len(tokens)) if list(tokens[p - BLOCK:p]) == w]
        assert ends and all(tokens[p] == target for p in ends)
        assert enc.decode(w).endswith("def helper(a, b")


def test_a_sample_is_seeded_and_no_larger_than_asked(enc):
    tokens = stream(enc, repeats=12)
    forms = tuple(f for f in FORMS if f.task == "enumerate_range")
    once, again = Favouring(None), Favouring(None)
    first = construct_accuracy(once, tokens, enc, forms=forms, per_form=4, seed=1)
    second = construct_accuracy(again, tokens, enc, forms=forms, per_form=4, seed=1)
    assert [(r.places, r.scored) for r in first] == [(12, 4), (12, 4)]
    assert [(r.places, r.scored) for r in second] == [(12, 4), (12, 4)]
    assert once.windows == again.windows  # the same seed scores the same places
    everything = construct_accuracy(Favouring(None), tokens, enc, forms=forms, per_form=0)
    assert [(r.places, r.scored) for r in everything] == [(12, 12), (12, 12)]


def test_the_table_has_one_row_per_task_and_marks_samples():
    results = [FormResult("with_as", " as", 10, 10, 9), FormResult("with_as", " in", 500, 300, 150)]
    text = table(results, {"with_as": 0.675})
    lines = text.splitlines()
    assert len(lines) == 3
    assert lines[2] == "| `with_as` | `' as'` | 10 | 0.900 | `' in'` | 500 | 0.500 (300) | 0.700 | 0.675 |"


def test_a_target_of_two_tokens_is_refused(enc):
    odd = (Form("odd", "):\n", r"def \w+\((?=\):\n)"), Form("odd", " elsewhere", r"x(?= elsewhere)"))
    with pytest.raises(ValueError, match="not one"):
        construct_accuracy(Favouring(None), stream(enc), enc, forms=odd)


def test_an_extra_form_set_is_scored_as_a_decision_of_its_own(enc):
    code = "names = ['a', 'b']\nlabel = \"first\" + x\nkind = 'same' + x\n"
    tokens = stream(enc, code=code)
    forms = forms_with(["quote_against_neighbours"])[-2:]
    double = enc.encode_ordinary('"')[0]
    results = construct_accuracy(Favouring(double), tokens, enc, forms=forms)
    assert [(r.target, r.places, r.correct) for r in results] == [('"', 3, 3), ("'", 3, 0)]
