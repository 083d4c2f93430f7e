"""How much of a continued model's training data was new: which windows each stage trained on again, and how much of
the training split the chain of stages has covered.

A batch depends only on (seed, step, rank) (``batches.window_starts``), so a stage that continues an earlier run
with the same seed, batch size and context draws, at step s, the windows that run drew at its step s: every plain
window where both runs' window is plain, and every focus window where both used the same focus list. Such a stage
re-reads its predecessor's data in the same order, however its learning rate or length differ. This tool counts
those windows from the runs' records alone (the rule above is exact; ``test_window_reuse`` checks it against
``get_batch``), and replays the plain windows' offsets to measure how much of the training split they covered.

    python train/window_reuse.py --run train/checkpoints/sparse-py-2l-d512-h

With ``--loss`` it also measures what reading windows again does: the run's model's loss on its last stage's plain
windows (trained on in that stage, and in each earlier stage that shares its seed), on windows of a seed no stage
used, and on the validation split.

Stages that read different training text (``stages.text_label``: the base corpus or corpus.py's extended one) never
share a window, and the coverage is that of the ``--data`` folder's split by the stages that read its text.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from batches import window_starts  # noqa: E402
from data_prep import load_tokens  # noqa: E402
from stages import read_records, read_train_args, stage_dirs, text_label  # noqa: E402


def stage_windows(run_dir: str) -> dict:
    """What decides a stage's windows, from its record: see ``windows_of``; steps are those it trained."""
    recs = read_records(run_dir)
    return windows_of(read_train_args(run_dir), recs[-1]["step"] if recs else 0,
                      os.path.basename(os.path.normpath(run_dir)))


def windows_of(a: dict, steps: int, run: str) -> dict:
    """Seed, batch, context, processes, steps, focus (list, windows per batch) and text of a run's arguments `a`."""
    focus = (a.get("focus_tokens"), a.get("focus_tasks"), bool(a.get("focus_constructs")),
             tuple(a.get("focus_extra") or ()))
    has_focus = any(focus)
    return {
        "run": run,
        "seed": a["seed"],
        "batch": a["batch_size"],
        "T": a["block_size"],
        "world": a.get("world", 1),
        "steps": steps,
        "focus": focus if has_focus else None,
        "n_focus": int(round(a["batch_size"] * a.get("focus_frac", 0.0))) if has_focus else 0,
        "text": text_label(a),
    }


def continuation_warning(args: dict, steps: int, world: int, init_dir: str) -> str | None:
    """A warning for a new stage that would train again on windows of the runs it continues, or None."""
    if not os.path.exists(os.path.join(init_dir, "train_args.json")):
        return None
    chain = [stage_windows(d) for d in stage_dirs(init_dir)]
    this = windows_of(dict(args, world=world), steps, "this stage")
    again = repeated_windows(chain + [this])[-1]
    if not again:
        return None
    total = steps * world * this["batch"]
    return (f"--seed {args['seed']}: {again:,} of this stage's {total:,} windows ({again / total:.0%}) are windows the "
            f"runs it continues already trained on at the same step (a batch depends only on seed, step and rank); "
            f"a --seed no earlier stage used draws new ones (train/window_reuse.py)")


def same_window(a: dict, b: dict, index: int) -> bool:
    """Whether stages a and b draw the same window at batch position `index` of the same (step, rank)."""
    if (a["seed"], a["batch"], a["T"], a.get("text")) != (b["seed"], b["batch"], b["T"], b.get("text")):
        return False  # another seed, shape or training text: other windows
    plain_a, plain_b = index >= a["n_focus"], index >= b["n_focus"]
    if plain_a and plain_b:
        return True
    # Focus window i is drawn after the batch's plain offsets and focus windows 0..i-1, each taking three draws, so
    # the same focus list gives the same window i whatever the two focus shares are. Two different lists count as
    # different windows; where one list extends the other (--focus-extra adds forms after the tasks'), a few of their
    # windows do coincide (the same form index and occurrence drawn), which this count leaves out.
    return not plain_a and not plain_b and a["focus"] == b["focus"]


def repeated_windows(stages: list[dict]) -> list[int]:
    """For each stage, how many of its windows an earlier stage of the chain trained on (same step, rank, index)."""
    out = []
    for i, s in enumerate(stages):
        n = 0
        for index in range(s["batch"]):
            earlier = [e for e in stages[:i] if same_window(s, e, index)]
            for rank in range(s["world"]):
                # Steps where an earlier stage drew this (rank, index) window; ranks beyond its process count drew none.
                reach = [e["steps"] for e in earlier if rank < e["world"]]
                n += min(s["steps"], max(reach, default=0))
        out.append(n)
    return out


def plain_coverage(stages: list[dict], n_tokens: int) -> tuple[int, int]:
    """(plain window tokens the chain trained on, distinct training-split tokens they cover)."""
    edges = np.zeros(n_tokens + 1, dtype=np.int32)
    drawn = 0
    for s in stages:
        for step in range(s["steps"]):
            for rank in range(s["world"]):
                starts = window_starts(n_tokens, s["batch"], s["T"], s["seed"], step, rank)[s["n_focus"]:]
                np.add.at(edges, starts, 1)
                np.add.at(edges, starts + s["T"] + 1, -1)
                drawn += len(starts) * (s["T"] + 1)
    return drawn, int(np.count_nonzero(np.cumsum(edges[:-1])))


def report(run_dir: str, data_dir: str) -> dict:
    stages = [stage_windows(d) for d in stage_dirs(run_dir)]
    again = repeated_windows(stages)
    rows = []
    for s, n in zip(stages, again):
        windows = s["steps"] * s["world"] * s["batch"]
        rows.append({"run": s["run"], "seed": s["seed"], "steps": s["steps"], "windows": windows,
                     "focus_windows": s["steps"] * s["world"] * s["n_focus"], "windows_trained_before": n,
                     "share_trained_before": round(n / windows, 4) if windows else None})
    n_tokens = len(load_tokens("train", data_dir))
    text = text_label({"data": data_dir})
    on_this_text = [s for s in stages if s["text"] == text]
    drawn, covered = plain_coverage(on_this_text, n_tokens)
    return {"stages": rows, "training_split_tokens": n_tokens, "text": text,
            "stages_on_this_text": [s["run"] for s in on_this_text], "plain_window_tokens": drawn,
            "distinct_tokens_covered": covered, "share_of_split_covered": round(covered / n_tokens, 4)}


def loss_on_windows(run_dir: str, data_dir: str, batches: int = 32) -> dict:
    """Mean loss of the run's weights (ckpt.pt) on its last stage's plain windows, at steps spread over that stage,
    against the same number of windows from an unused seed and of fixed validation windows, each with the standard
    error of its mean over batches (windows differ by about 0.5 nats: 256 windows once showed a 0.135 gap that 1,024
    brought down to 0.033, hence 1,024 by default)."""
    if batches < 2:
        raise SystemExit(f"--batches {batches}: the standard error needs at least 2 batches")
    import torch

    from batches import eval_batches, windows_at
    from weights_file import load_model

    model, _ = load_model(os.path.join(run_dir, "ckpt.pt"))
    stages = [stage_windows(d) for d in stage_dirs(run_dir)]
    last = stages[-1]
    if last["text"] != text_label({"data": data_dir}):
        raise SystemExit(f"{run_dir}: its last stage read the {last['text']} training text, not {data_dir}'s; "
                         f"give --data the folder it trained on")
    if last["n_focus"] >= last["batch"]:
        raise SystemExit(f"{run_dir}: its last stage placed every window by focus, so it has no plain windows to measure")
    train_tok, val_tok = load_tokens("train", data_dir), load_tokens("val", data_dir)
    T, per_batch = last["T"], 32

    def windows_of_seed(seed):
        # A batch's last window is a plain one (focus windows come first).
        starts = [int(window_starts(len(train_tok), last["batch"], T, seed, int(step), 0)[-1])
                  for step in np.linspace(0, last["steps"] - 1, batches * per_batch).astype(int)]
        return [windows_at(train_tok, starts[i:i + per_batch], T) for i in range(0, len(starts), per_batch)]

    def mean_loss(pairs):
        with torch.no_grad():
            per_batch_loss = np.array([model(x, y)[1].item() for x, y in pairs])
        se = per_batch_loss.std(ddof=1) / np.sqrt(len(per_batch_loss))
        return {"mean": round(float(per_batch_loss.mean()), 4), "se": round(float(se), 4)}

    unused = max(s["seed"] for s in stages) + 1
    return {"windows_each": batches * per_batch, "last_stage_windows": mean_loss(windows_of_seed(last["seed"])),
            f"new_windows_seed_{unused}": mean_loss(windows_of_seed(unused)),
            "validation": mean_loss(eval_batches(val_tok, batches, per_batch, T, "cpu"))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", required=True, help="a run folder (train/runs/<id> or train/checkpoints/<id>)")
    ap.add_argument("--data", default=os.path.join(HERE, "data"),
                    help="the folder holding tokens_train.bin (train/data/extended for the extended corpus)")
    ap.add_argument("--loss", action="store_true", help="also the model's loss on re-read, new and validation windows")
    ap.add_argument("--batches", type=int, default=32, help="--loss: batches of 32 windows per measurement")
    args = ap.parse_args(argv)
    out = report(args.run, args.data)
    if args.loss:
        out["loss"] = loss_on_windows(args.run, args.data, args.batches)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
