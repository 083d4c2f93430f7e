"""A resumed run's record (train_args.json) must still say how its checkpoint was made.

Re-running a run's command resumes it bit-identically, so the command may differ only in where this sitting stops
(--stop-after), how it reports, and where files live on this machine (a clone can sit elsewhere). Any other
difference (a learning rate, a sparsity target, a seed) would train the rest of the run in a way its record does not
say, so it is refused. A new --stop-after (or none) replaces the recorded one, so that the recorded command
reproduces the checkpoint as it now is.
"""
from __future__ import annotations

import json
import os

# arguments that may differ between sittings of one run
SITTING_ONLY = {"stop_after", "no_progress", "out", "data", "tokenizer", "tasks_dir", "focus_tasks", "device",
                "threads", "argv"}
# what train.py adds to the arguments when it writes the record (the process count, "world", is compared: each
# rank draws its own batches, so another count trains on other data)
DERIVED = {"total_steps", "tokens_per_step", "init_tokens", "command", "commands"}
# how a compared argument is named in the refusal, where it is not a flag of train.py
NAMES = {"world": "processes"}


def update_on_resume(path: str, args: dict, command: str, write: bool = True) -> bool:
    """Check a resuming sitting's arguments (with ``world``, its process count) against the run's record at
    ``path`` and bring the record's stop point and command up to date (when ``write``: one process of several
    writes). Raises SystemExit naming the arguments that differ; returns whether the stop point changed."""
    with open(path) as fh:
        record = json.load(fh)
    differ = sorted(k for k, v in args.items()
                    if k not in SITTING_ONLY | DERIVED and k in record and record[k] != v)
    if differ:
        said = ", ".join(f"{NAMES.get(k, '--' + k.replace('_', '-'))} {record[k]!r} -> {args[k]!r}" for k in differ)
        raise SystemExit(f"{os.path.dirname(path) or '.'}: cannot resume with other training arguments than the "
                         f"run was started with ({said}); start a new --out, or an --init-from stage")
    restopped = record.get("stop_after") != args.get("stop_after")
    if restopped and write:
        record["stop_after"] = args.get("stop_after")
        record["argv"] = args.get("argv")
        commands = record.get("commands") or [record.get("command")]
        record["command"] = command
        record["commands"] = commands[:-1] + [command]
        with open(path, "w") as fh:
            json.dump(record, fh, indent=2)
    return restopped
