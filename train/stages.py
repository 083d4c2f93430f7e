"""The training stages behind a run, for the model card: a run started with --init-from continues an earlier run,
so a model's history is the chain of run folders. Each stage records its command, tokens, steps, wall time,
throughput and final losses (from the run's train_args.json and metrics.jsonl)."""
from __future__ import annotations

import json
import os

from corpus import EXTENDED_DATA


def read_train_args(run_dir: str) -> dict:
    """The run's train_args.json: its command, --init-from, world size, tasks folder and token counts."""
    with open(os.path.join(run_dir, "train_args.json")) as fh:
        return json.load(fh)


def text_label(args: dict) -> str:
    """Which training text a stage read, from its arguments: "extended" for corpus.py's extended corpus (train.py
    --data train/data/extended; records hold the folder as their machine named it, so only its last part is
    compared), "base" for any other folder: the extended corpus tokenized into a folder of another name reads as
    base."""
    folder = os.path.basename(os.path.normpath(args.get("data") or ""))
    return "extended" if folder == os.path.basename(EXTENDED_DATA) else "base"


def read_records(run_dir: str) -> list[dict]:
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def wall_seconds(records: list[dict]) -> float | None:
    """Sum over sittings of each sitting's wall time. A sitting's records carry `sitting_s` (seconds since it
    started); a new sitting starts where that clock goes back. Older records without it: tokens / tok_per_s of
    the last record, which is exact for a run trained in one sitting."""
    if not records:
        return None
    if all("sitting_s" in r for r in records):
        total, last = 0.0, 0.0
        for r in records:
            if r["sitting_s"] < last:
                total += last
            last = r["sitting_s"]
        return round(total + last, 3)  # milliseconds: a short test run must not round to 0
    r = records[-1]
    return round(r["tokens"] / r["tok_per_s"], 3) if r.get("tok_per_s") else None


def stage_of(run_dir: str) -> dict:
    targs = read_train_args(run_dir)
    recs = read_records(run_dir)
    evals = [r for r in recs if "val_loss" in r]
    last = recs[-1] if recs else {}
    wall = wall_seconds(recs)
    stage = {
        "run": os.path.basename(os.path.normpath(run_dir)),
        "command": targs.get("command"),
        "processes": targs.get("world", 1),
        "steps": last.get("step"),
        "tokens": last.get("tokens"),
        "wall_s": wall,
        "tokens_per_s": round(last["tokens"] / wall) if wall and last.get("tokens") else None,
        "final_train_loss": last.get("train_loss"),
        "final_val_loss": evals[-1]["val_loss"] if evals else None,
        "val_loss_curve": [[r["tokens"], round(r["val_loss"], 4)] for r in evals],
    }
    if evals and "task_accuracy" in evals[-1]:
        stage["task_accuracy_during_training"] = evals[-1]["task_accuracy"]
        stage["task_accuracy_source"] = targs.get("tasks_dir")
    return stage


def stage_dirs(run_dir: str) -> list[str]:
    """A run's folder and those of the runs it continues, oldest first, following each --init-from back."""
    chain, seen = [], set()
    while run_dir and os.path.abspath(run_dir) not in seen:
        seen.add(os.path.abspath(run_dir))
        chain.append(run_dir)
        init = read_train_args(run_dir).get("init_from")
        run_dir = earlier_stage_dir(run_dir, init) if init else None
    return chain[::-1]


def earlier_stage_dir(run_dir: str, init_from: str) -> str:
    """The folder of the run that run_dir continues: where --init-from pointed, or, where that run is not on this
    machine (train/runs/ is not committed), its kept copy of the same name beside run_dir (train/checkpoints/)."""
    recorded = os.path.dirname(init_from)
    beside = os.path.join(os.path.dirname(run_dir), os.path.basename(recorded))
    for candidate in (recorded, beside):
        if os.path.exists(os.path.join(candidate, "train_args.json")):
            return candidate
    raise SystemExit(f"{run_dir} continues {recorded}, whose record (train_args.json) is neither there nor at {beside}")


def training_stages(run_dir: str) -> list[dict]:
    """Stages oldest first, following each run's --init-from back to the first."""
    return [stage_of(d) for d in stage_dirs(run_dir)]
