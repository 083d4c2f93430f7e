"""How often a model makes each task's decision right where real code makes it, beside its accuracy on the task's
prompts.

The task prompts (public/models/<id>/tasks) are contrastive pairs: one side is often an edited line (``for r, c``
turned into ``with r, c``, a ``"`` swapped for ``'``) or a template, so that only the feature the task is about
tells the two answers apart. In real code the same decision usually comes with other cues as well (``with open(p)``
is followed by `` as``, a loop over ``range`` by ``in``). This tool measures the model at the places of
``construct_focus.FORMS`` in one split's token stream: each place is scored with the ``block_size`` tokens before it,
and counts as right when the token that real code has there outscores the task's other answer (strictly, as in
task_eval.py). A task the model does in real code but not on its prompts is one where the model answers from the
cues that come with the feature, not from the feature.

    python train/construct_accuracy.py --ckpt train/runs/<run>/ckpt.pt --split heldout \
        --tasks public/models/sparse-py-2l/tasks
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from construct_focus import (EXTRA_FORMS, FORMS, Form, decode_stream, form_positions, forms_with,  # noqa: E402
                             target_id, token_table)
from data_prep import token_path  # noqa: E402
from task_curve import markdown_table  # noqa: E402


@dataclass
class FormResult:
    task: str
    target: str
    places: int  # places of the form in the split (with a full window before them)
    scored: int  # how many of them were scored (all, or a seeded sample of `per_form`)
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.scored if self.scored else float("nan")


def partner_targets(forms: tuple[Form, ...]) -> dict[int, str]:
    """For each form (by index), the target of its task's other form: the answer it is scored against."""
    by_task: dict[str, list[int]] = {}
    for i, f in enumerate(forms):
        by_task.setdefault(f.task, []).append(i)
    out = {}
    for task, idx in by_task.items():
        if len(idx) != 2:
            raise ValueError(f"{task}: {len(idx)} forms, a decision needs exactly two")
        out[idx[0]], out[idx[1]] = forms[idx[1]].target, forms[idx[0]].target
    return out


@torch.no_grad()
def score_places(model, tokens: np.ndarray, places: np.ndarray, right: int, wrong: int, batch: int = 64) -> int:
    """How many places the model gets right: the logit of `right` (the token there) strictly above `wrong`'s, from the
    model's `block_size` tokens before the place."""
    block = model.cfg.block_size
    correct = 0
    for i in range(0, len(places), batch):
        windows = np.stack([tokens[p - block:p] for p in places[i:i + batch]]).astype(np.int64)
        last = model(torch.from_numpy(windows))[:, -1]
        correct += int((last[:, right] > last[:, wrong]).sum())
    return correct


def construct_accuracy(model, tokens: np.ndarray, enc, forms: tuple[Form, ...] = FORMS, per_form: int = 300,
                       seed: int = 0) -> list[FormResult]:
    """Each form's places in `tokens` and the model's accuracy on them (a seeded sample of `per_form` where there are
    more; every place where per_form is 0). Places in the stream's first `block_size` tokens have no full window
    and are left out."""
    was_training = model.training
    model.eval()
    try:
        text, starts = decode_stream(tokens, token_table(enc, model.cfg.vocab_size))
        partners = partner_targets(forms)
        rng = np.random.default_rng(seed)
        out = []
        for i, form in enumerate(forms):
            right, wrong = (target_id(enc, t, form.task) for t in (form.target, partners[i]))
            places = form_positions(form, text, starts, tokens, right)
            places = places[places >= model.cfg.block_size]
            chosen = np.sort(rng.choice(places, size=per_form, replace=False)) if 0 < per_form < len(places) else places
            correct = score_places(model, tokens, chosen, right, wrong)
            out.append(FormResult(form.task, form.target, len(places), len(chosen), correct))
        return out
    finally:
        model.train(was_training)


def by_task(results: list[FormResult]) -> dict[str, tuple[FormResult, FormResult]]:
    """The two forms of each task, in FORMS order."""
    out: dict[str, list[FormResult]] = {}
    for r in results:
        out.setdefault(r.task, []).append(r)
    return {task: (pair[0], pair[1]) for task, pair in out.items()}


def balanced(pair: tuple[FormResult, FormResult]) -> float:
    """The mean of the two forms' accuracies, so that the rarer answer counts as much as the common one (as the task
    prompts do: each pair asks both)."""
    return (pair[0].accuracy + pair[1].accuracy) / 2


def fmt(x: float) -> str:
    return "" if x != x else f"{x:.3f}"


def table(results: list[FormResult], prompt_accuracy: dict[str, float] | None = None) -> str:
    head = ["task", "answer 1", "places", "right", "answer 2", "places", "right", "real code (balanced)"]
    if prompt_accuracy is not None:
        head.append("task prompts")
    rows = []
    for task, (a, b) in by_task(results).items():
        row = [f"`{task}`"]
        for r in (a, b):
            row += [f"`{r.target!r}`", f"{r.places:,}", fmt(r.accuracy) + (f" ({r.scored})" if r.scored < r.places else "")]
        row.append(fmt(balanced((a, b))))
        if prompt_accuracy is not None:
            row.append(fmt(prompt_accuracy.get(task, float("nan"))))
        rows.append(row)
    return markdown_table(head, rows)


def main(argv=None):
    from model_folder import load_model_folder
    from task_eval import evaluate_tasks, load_tasks
    from tokenizer_train import load_tiktoken
    from weights_file import load_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--ckpt", help="a train.py checkpoint (ckpt.pt)")
    src.add_argument("--model-folder", help="an exported model folder (public/models/<id>)")
    ap.add_argument("--split", default="heldout", choices=["train", "val", "heldout"],
                    help="which token stream of --data to read (default: heldout, the files the model card checks use)")
    ap.add_argument("--data", default=os.path.join(HERE, "data"), help="folder of tokens_<split>.bin (data_prep.py)")
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "tokenizer"))
    ap.add_argument("--per-form", type=int, default=300, help="places scored per form, a seeded sample (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tasks", default=None, help="a tasks/ folder: also print the test prompts' accuracy per task")
    ap.add_argument("--extra", action="append", default=[], choices=sorted(EXTRA_FORMS),
                    help="also score a named extra form set of construct_focus.py (repeatable), e.g. "
                    "quote_against_neighbours: strings opened with the other quote than the line before's")
    args = ap.parse_args(argv)

    path = token_path(args.split, args.data)
    if not os.path.isfile(path):
        raise SystemExit(f"{path} is missing: run train/corpus.py --download and train/data_prep.py first")
    model = load_model(args.ckpt)[0] if args.ckpt else load_model_folder(args.model_folder)
    tokens = np.fromfile(path, dtype=np.uint16)
    results = construct_accuracy(model, tokens, load_tiktoken(args.tokenizer), forms=forms_with(args.extra),
                                 per_form=args.per_form, seed=args.seed)
    prompts = None
    if args.tasks:
        prompts = {name: r["accuracy"] for name, r in evaluate_tasks(model, load_tasks(args.tasks)).items()}
    print(f"{args.split} split, {len(tokens):,} tokens, windows of {model.cfg.block_size} tokens")
    print(table(results, prompts))


if __name__ == "__main__":
    main()
