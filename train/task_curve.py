"""Validation loss and each task's full-model test accuracy over a model's whole training, every stage of it.

train.py --tasks-dir logs each task's accuracy on the test pairs at every evaluation; this follows a run's chain of
--init-from stages (stages.py) and prints one row per evaluation, tokens counted from the first stage, so that one
table shows what more tokens bought each task:

    python train/task_curve.py --run train/runs/<run> [--every 4] [--threshold 0.9]

With --against another run (two shapes or recipes trained on the same schedule), it prints instead the evaluations
both runs made at the same token count side by side: validation loss, tasks done, mean accuracy, and how many tasks
the first run does better, equally or worse at that point.
"""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from sparsity import embed_l0_frac  # noqa: E402
from stages import read_records, read_train_args, stage_dirs  # noqa: E402


def training_curve(run_dir: str) -> list[dict]:
    """One row per evaluation that logged task accuracy: {run, tokens (cumulative), l0_frac, embed_frac, val_loss,
    val_extra_loss, task_accuracy}. val_extra_loss is None where the stage did not measure the extended text's own
    validation split. l0_frac is the fraction of weights kept at that step: the trainer anneals it down to its
    target, and the loss rises while it does."""
    rows = []
    for d in stage_dirs(run_dir):
        args = read_train_args(d)
        init_tokens = int(args.get("init_tokens", 0))
        for r in read_records(d):
            if "task_accuracy" in r:
                rows.append({"run": os.path.basename(os.path.normpath(d)), "tokens": init_tokens + r["tokens"],
                             "l0_frac": r.get("l0_frac"), "embed_frac": embed_frac(args, r["step"]),
                             "val_loss": r["val_loss"], "val_extra_loss": r.get("val_extra_loss"),
                             "task_accuracy": r["task_accuracy"]})
    return rows


def embed_frac(args: dict, step: int) -> float | None:
    """The token embedding's and unembedding's kept fraction at a logged step of a run with --embed-l0 (None
    without): the trainer's own schedule (sparsity.l0_frac) over the run's recorded steps and anneal."""
    return embed_l0_frac(step, args["total_steps"], args.get("embed_l0"), args["anneal_start"], args["anneal_end"],
                         bool(args.get("dense")))


def tokens_label(tokens: int) -> str:
    return f"{tokens / 1e6:.1f}M" if tokens >= 100_000 else f"{tokens:,}"


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table: the header, its separator, one line per row of cells."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])


def measured_anywhere(rows: list[dict], key: str) -> bool:
    """Whether any row has a value for `key`. An optional column is printed only then, so that tables of runs that
    never measured it print exactly as before the column existed."""
    return any(r.get(key) is not None for r in rows)


def optional_cell(shown: bool, value: float | None, fmt: str = ".3f") -> list[str]:
    """The cells an optional column adds to one row: none where the column is not shown, a blank one where this row
    lacks the value."""
    if not shown:
        return []
    return ["" if value is None else format(value, fmt)]


def curve_or_exit(run_dir: str) -> list[dict]:
    rows = training_curve(run_dir)
    if not rows:
        raise SystemExit(f"{run_dir}: no evaluation with task accuracy (train with --tasks-dir)")
    return rows


def markdown(rows: list[dict], threshold: float = 0.9) -> str:
    tasks = sorted({t for r in rows for t in r["task_accuracy"]})
    # val_extra is shown only where some stage measured it: the added text's loss goes on falling after the base
    # validation loss has flattened, so a curve over extended-text stages needs both.
    extra = measured_anywhere(rows, "val_extra_loss")
    head = ["tokens", "stage", "weights kept", "val loss", *(["val_extra loss"] if extra else []),
            f"tasks >= {threshold:g}", *tasks]
    table = []
    for r in rows:
        acc = r["task_accuracy"]
        done = sum(1 for t in tasks if acc.get(t, 0) >= threshold)
        kept = f"1/{1 / r['l0_frac']:.0f}" if r.get("l0_frac") else ""
        if kept and r.get("embed_frac"):
            kept += f", embeddings 1/{1 / r['embed_frac']:.0f}"
        cells = [tokens_label(r["tokens"]), r["run"], kept, f"{r['val_loss']:.3f}",
                 *optional_cell(extra, r.get("val_extra_loss")), str(done),
                 *(f"{acc[t]:.2f}" if t in acc else "" for t in tasks)]
        table.append(cells)
    return markdown_table(head, table)


def side_by_side(rows: list[dict], other: list[dict], threshold: float = 0.9) -> str:
    """The evaluations of `rows` that `other` also made at the same cumulative token count, one line each. Tasks are
    those both runs logged; a task is better or worse by any difference in test accuracy."""
    at = {r["tokens"]: r for r in other}
    shared = [r for r in rows if r["tokens"] in at]
    if not shared:
        raise SystemExit("the two runs have no evaluation at the same token count (train them on the same schedule)")
    name, against = shared[-1]["run"], at[shared[-1]["tokens"]]["run"]
    head = ["tokens", f"val loss {name}", f"val loss {against}", f"tasks >= {threshold:g} {name}",
            f"tasks >= {threshold:g} {against}", f"mean accuracy {name}", f"mean accuracy {against}",
            "tasks better / equal / worse"]
    table = []
    for r in shared:
        o = at[r["tokens"]]
        tasks = sorted(set(r["task_accuracy"]) & set(o["task_accuracy"]))
        mine, theirs = [r["task_accuracy"][t] for t in tasks], [o["task_accuracy"][t] for t in tasks]
        better = sum(m > t for m, t in zip(mine, theirs))
        worse = sum(m < t for m, t in zip(mine, theirs))
        cells = [tokens_label(r["tokens"]), f"{r['val_loss']:.3f}", f"{o['val_loss']:.3f}",
                 str(sum(m >= threshold for m in mine)), str(sum(t >= threshold for t in theirs)),
                 f"{sum(mine) / len(tasks):.3f}", f"{sum(theirs) / len(tasks):.3f}",
                 f"{better} / {len(tasks) - better - worse} / {worse}"]
        table.append(cells)
    return markdown_table(head, table)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="the last stage's run folder")
    p.add_argument("--every", type=int, default=1, help="print every n-th evaluation (the last always)")
    p.add_argument("--threshold", type=float, default=0.9, help="accuracy that counts as doing the task")
    p.add_argument("--against", help="another run's last stage: print the two side by side at equal tokens")
    a = p.parse_args(argv)
    if a.every < 1:
        p.error("--every must be at least 1")
    rows = curve_or_exit(a.run)
    kept = [r for i, r in enumerate(rows) if i % a.every == 0 or i == len(rows) - 1]
    if a.against is None:
        print(markdown(kept, a.threshold))
        return
    print(side_by_side(kept, curve_or_exit(a.against), a.threshold))


if __name__ == "__main__":
    main()
