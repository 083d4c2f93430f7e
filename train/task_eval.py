"""Full-model accuracy and loss on the task suite's test pairs, straight from a training checkpoint.

The same numbers as the explorer's "full model" row (src/circuit metrics): for each prompt, the loss is the binary
cross-entropy over just the two target tokens at the last position, and a prompt counts as correct when the
correct token's logit is strictly above the alternative's (a tie is wrong). Each pair contributes both prompts.
Used during training (``train.py --tasks-dir``) to log per-task accuracy at every evaluation, and on its own:

    python train/task_eval.py --ckpt train/runs/<id>/ckpt.pt --tasks public/models/<id>/tasks
    python train/task_eval.py --model-folder public/models/<id> --tasks public/models/<id>/tasks

With --prompt-tokens 16,32,64,128 it scores the same pairs with each prompt cut to its last N tokens, one column per
N (capped at the model's context), so a prompt-length effect is read on one sample of pairs rather than across two
task suites whose pair samples differ. Each accuracy is printed with its standard error over the task's pairs: a
pair's two prompts share one context, so they are not independent draws, and the error is taken over the pairs'
mean accuracies (a clustered error), not over prompts. With 20-100 pairs a task 0.03-0.07 from the 0.9 bar is
within noise of it.

With --by-side it also splits each task's accuracy by the side of its pairs, the `a` and `b` prompts of the task file,
whose answers are the task's two target tokens, swapped. For single_double_quote, bracket_brace, tuple_list and
while_return_true side a is the prompt as found in code and side b the edited one; for the other tasks side a is the
form whose answer is the task's first target token (src/tasks/contrast.ts, `pairA`). A model that answers from what
usually follows, not from the feature the task is about, does well on one side only.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from model import GPT  # noqa: E402
from model_folder import load_model_folder, write_json  # noqa: E402
from weights_file import load_model  # noqa: E402


def load_tasks(tasks_dir: str, split: str = "test", sides: str = "ab") -> dict[str, list[dict]]:
    """{task name: [prompt dicts with tokens, correct, alternative]} from every tasks/<task>.json; `sides` keeps
    both prompts of each pair ("ab") or one side ("a" or "b")."""
    out = {}
    for path in sorted(glob.glob(os.path.join(tasks_dir, "*.json"))):
        with open(path) as fh:
            task = json.load(fh)
        prompts = [pair[side] for pair in task[split] for side in sides]
        out[task.get("task", os.path.basename(path)[:-5])] = prompts
    return out


@torch.no_grad()
def evaluate_prompts(model: GPT, prompts: list[dict], block_size: int, paired: bool = False) -> dict:
    """Accuracy and mean two-token loss over prompts (each truncated on the left to the model's context). With
    paired=True the prompts are a pair's two sides in turn (load_tasks with sides="ab"), and the result also holds
    the accuracy's standard error over pairs (paired_standard_error)."""
    losses, hits = [], []
    for p in prompts:
        toks = p["tokens"][-block_size:]
        logits = model(torch.tensor([toks], dtype=torch.long))[0, -1]
        pair = torch.stack([logits[p["correct"]], logits[p["alternative"]]]).float()
        losses.append(float(-F.log_softmax(pair, dim=0)[0]))
        hits.append(bool(pair[0] > pair[1]))
    n = max(len(prompts), 1)
    out = {"accuracy": sum(hits) / n, "loss": sum(losses) / n, "prompts": len(prompts)}
    if paired:
        out["standard_error"] = paired_standard_error(hits)
    return out


def evaluate_tasks(model: GPT, tasks: dict[str, list[dict]], prompt_tokens: int | None = None,
                   paired: bool = False) -> dict[str, dict]:
    """evaluate_prompts per task; prompt_tokens cuts every prompt to its last N tokens (None: the model's context)."""
    keep = min(prompt_tokens or model.cfg.block_size, model.cfg.block_size)
    was_training = model.training
    model.eval()
    try:
        return {name: evaluate_prompts(model, prompts, keep, paired) for name, prompts in tasks.items()}
    finally:
        model.train(was_training)


def tasks_at_bar(results: dict[str, dict], bar: float = 0.9) -> int:
    """How many tasks the model does: full-model accuracy at or above the bar the task counts use."""
    return sum(r["accuracy"] >= bar for r in results.values())


def paired_standard_error(hits: list[bool]) -> float:
    """Standard error of the accuracy of prompts that come in pairs (hits[2i] and hits[2i+1] are one pair's sides):
    the sample standard deviation of the pairs' mean accuracies over the square root of their number. A pair's two
    prompts are one context edited, so they are not independent; a model that gets both sides of a pair right or
    both wrong has a larger error than a binomial one over all prompts would say, and one that gets exactly one side
    of every pair right has none."""
    if len(hits) % 2:
        raise ValueError(f"{len(hits)} prompts do not make whole pairs")
    means = [(hits[i] + hits[i + 1]) / 2 for i in range(0, len(hits), 2)]
    n = len(means)
    if n < 2:
        return 0.0
    mean = sum(means) / n
    return (sum((m - mean) ** 2 for m in means) / (n - 1) / n) ** 0.5


def print_by_prompt_length(model: GPT, tasks: dict[str, list[dict]], lengths: list[int]) -> dict[int, dict]:
    """One accuracy (± standard error) column per prompt length, and each column's count of tasks at >= 0.9."""
    by_length = {n: evaluate_tasks(model, tasks, n, paired=True) for n in lengths}
    print(f"{'prompt tokens':28s}" + "".join(f"{n:>15d}" for n in lengths))
    for name in tasks:
        cells = (by_length[n][name] for n in lengths)
        print(f"{name:28s}" + "".join(f"{r['accuracy']:>9.3f} ±{r['standard_error']:.3f}" for r in cells))
    print(f"{'tasks with accuracy >= 0.9':28s}" + "".join(
        f"{tasks_at_bar(by_length[n]):>15d}" for n in lengths))
    return by_length


def pooled(a: dict, b: dict) -> dict:
    """evaluate_prompts' result over the prompts of a and b together."""
    n = a["prompts"] + b["prompts"]
    mean = lambda key: (a[key] * a["prompts"] + b[key] * b["prompts"]) / max(n, 1)  # noqa: E731
    return {"accuracy": mean("accuracy"), "loss": mean("loss"), "prompts": n}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--ckpt", help="a train.py checkpoint (ckpt.pt)")
    src.add_argument("--model-folder", help="an exported model folder (public/models/<id>)")
    ap.add_argument("--tasks", required=True, help="a model folder's tasks/ directory")
    ap.add_argument("--split", default="test", choices=["train", "test"])
    ap.add_argument("--write-card", default=None, metavar="MODEL_FOLDER",
                    help="also store the results as task_accuracy in MODEL_FOLDER/model-card.json")
    ap.add_argument("--by-side", action="store_true",
                    help="also print each task's accuracy on side a and side b of its pairs (the task files' a and b prompts)")
    ap.add_argument("--prompt-tokens", default=None, metavar="N,N,...",
                    help="score the same pairs with prompts cut to each of these lengths (one column each) instead")
    args = ap.parse_args(argv)
    if args.prompt_tokens and (args.by_side or args.write_card):
        ap.error("--prompt-tokens prints its own table; use it without --by-side and --write-card")
    if args.ckpt:
        model, _ = load_model(args.ckpt)
    else:
        model = load_model_folder(args.model_folder)
    if args.prompt_tokens:
        lengths = [int(n) for n in args.prompt_tokens.split(",")]
        if any(n < 1 for n in lengths):
            ap.error("--prompt-tokens: lengths must be positive")
        print_by_prompt_length(model, load_tasks(args.tasks, args.split), lengths)
        return
    if args.by_side:
        # Each prompt is run once: a task's whole result is its two sides' together.
        by_side = {side: evaluate_tasks(model, load_tasks(args.tasks, args.split, side)) for side in "ab"}
        res = {name: pooled(by_side["a"][name], by_side["b"][name]) for name in by_side["a"]}
    else:
        by_side, res = {}, evaluate_tasks(model, load_tasks(args.tasks, args.split))
    for name, r in res.items():
        sides = "".join(f"  side {s} {by_side[s][name]['accuracy']:.3f}" for s in by_side)
        print(f"{name:28s} acc {r['accuracy']:.3f}  loss {r['loss']:.3f}  ({r['prompts']} prompts){sides}")
    print(f"tasks with accuracy >= 0.9: {tasks_at_bar(res)} of {len(res)}")
    if args.write_card:
        card_path = os.path.join(args.write_card, "model-card.json")
        with open(card_path) as fh:
            card = json.load(fh)
        card["task_accuracy"] = {"split": args.split, "method": "train/task_eval.py: binary cross-entropy over the "
                                 "two target tokens at the last position; correct when the correct token's logit is "
                                 "strictly higher", "tasks": res}
        write_json(card_path, card)


if __name__ == "__main__":
    main()
