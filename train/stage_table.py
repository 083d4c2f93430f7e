"""One row per training stage of a model: what each stage was told to do and what it ended with.

A model trained in many sittings (`--init-from` chains, stages.py) has its story spread over one train_args.json and
one metrics.jsonl per stage; task_curve.py prints every evaluation. This prints one line per stage instead, so that
recipes can be compared at a glance: its seed, peak learning rate, focus, training text, new tokens, wall time, the
validation loss at its first and last evaluation (the first minus the previous stage's last is what raising the
learning rate again cost), and the tasks at or above the threshold at its end and at its best evaluation:

    python train/stage_table.py --run train/checkpoints/<id> [--threshold 0.9] [--from 8]
"""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from stages import read_records, read_train_args, stage_dirs, text_label, wall_seconds  # noqa: E402
from task_curve import markdown_table, measured_anywhere, optional_cell, tokens_label  # noqa: E402


def focus_label(args: dict) -> str:
    """The stage's share of focused windows and what they were placed on ("" without focus)."""
    frac = args.get("focus_frac") or 0
    if not frac or not (args.get("focus_constructs") or args.get("focus_tasks") or args.get("focus_tokens")):
        return ""
    kind = "constructs" if args.get("focus_constructs") else "task targets" if args.get("focus_tasks") else "tokens"
    extras = [f"+{e}" for e in args.get("focus_extra") or []]
    weights = [f"{t}={w:g}" for t, w in sorted((args.get("focus_weights") or {}).items())]
    return " ".join([f"{frac:g} {kind}", *extras, *weights])


def stage_rows(run_dir: str, threshold: float = 0.9) -> list[dict]:
    """Per stage, oldest first: run, seed, lr, focus, training text, new and cumulative tokens, wall seconds, first
    and last validation loss, the last val_extra loss (None where the stage did not measure it), rise (first minus
    the previous stage's last; None for the first stage), and the task counts at the end and at the best evaluation
    (None where the stage logged no task accuracy)."""
    rows, previous_last = [], None
    for d in stage_dirs(run_dir):
        args, recs = read_train_args(d), read_records(d)
        evals = [r for r in recs if "val_loss" in r]
        counts = [sum(a >= threshold for a in r["task_accuracy"].values()) for r in evals if "task_accuracy" in r]
        last_acc = next((r["task_accuracy"] for r in reversed(evals) if "task_accuracy" in r), None)
        first, last = (evals[0]["val_loss"], evals[-1]["val_loss"]) if evals else (None, None)
        last_extra = evals[-1].get("val_extra_loss") if evals else None
        new_tokens = recs[-1]["tokens"] if recs else 0
        grown = args.get("grown_layers")  # a grow_depth.py record: layers added, nothing trained
        rows.append({
            "run": os.path.basename(os.path.normpath(d)), "seed": None if grown else args.get("seed"),
            "lr": None if grown else args.get("lr"),
            "focus": f"grown: +{grown} layers writing zero" if grown else focus_label(args),
            "text": None if grown else text_label(args), "new_tokens": new_tokens,
            "tokens": int(args.get("init_tokens", 0)) + new_tokens, "wall_s": wall_seconds(recs),
            "first_val": first, "last_val": last, "last_val_extra": last_extra,
            "rise": None if previous_last is None or first is None else first - previous_last,
            "tasks_at_end": counts[-1] if counts else None, "tasks_best": max(counts) if counts else None,
            "mean_accuracy": sum(last_acc.values()) / len(last_acc) if last_acc else None,
        })
        previous_last = last if last is not None else previous_last
    return rows


def markdown(rows: list[dict], threshold: float = 0.9) -> str:
    num = lambda v, f: "" if v is None else format(v, f)  # noqa: E731
    # The extended text's own validation split, shown once some stage measured it (stage 26 on): base val flattens
    # on that text while val_extra goes on falling, so the base column alone under-reports what a stage learned.
    extra = measured_anywhere(rows, "last_val_extra")
    head = ["stage", "seed", "peak lr", "focus", "text", "new tokens", "tokens (all stages)", "wall s", "first val",
            "last val", *(["last val_extra"] if extra else []), "rise", f"tasks >= {threshold:g} at end / best",
            "mean accuracy at end"]
    table = []
    for r in rows:
        tasks = "" if r["tasks_at_end"] is None else f"{r['tasks_at_end']} / {r['tasks_best']}"
        cells = [r["run"], str(r["seed"]), num(r["lr"], "g"), r["focus"], r["text"] or "",
                 tokens_label(r["new_tokens"]),
                 tokens_label(r["tokens"]), num(r["wall_s"], ",.0f"), num(r["first_val"], ".3f"),
                 num(r["last_val"], ".3f"), *optional_cell(extra, r.get("last_val_extra")),
                 num(r["rise"], "+.3f"), tasks, num(r["mean_accuracy"], ".3f")]
        table.append(cells)
    return markdown_table(head, table)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="the last stage's run folder (or its kept record)")
    p.add_argument("--threshold", type=float, default=0.9, help="accuracy that counts as doing the task")
    p.add_argument("--from", dest="first", type=int, default=1, help="print from this stage on (1 = the first)")
    a = p.parse_args(argv)
    if a.first < 1:
        p.error("--from must be at least 1")
    print(markdown(stage_rows(a.run, a.threshold)[a.first - 1:], a.threshold))


if __name__ == "__main__":
    main()
