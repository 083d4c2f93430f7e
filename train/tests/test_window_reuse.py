"""window_reuse's rule for which windows two runs share, checked against the windows batches.window_starts draws."""
import itertools
import json
import os

import numpy as np
import pytest

from batches import window_starts
from window_reuse import continuation_warning, plain_coverage, repeated_windows, same_window

N_TOKENS = 1_000_000  # large enough that two independently drawn windows practically never coincide
RNG = np.random.default_rng(7)
FOCUS_LISTS = {  # focus spec (as window_reuse keys it) -> the position arrays train.py would build
    ("]\\n", None, False): [RNG.integers(0, N_TOKENS, 500), RNG.integers(0, N_TOKENS, 40)],
    (None, None, True): [RNG.integers(0, N_TOKENS, 300), RNG.integers(0, N_TOKENS, 90), RNG.integers(0, N_TOKENS, 7)],
}


def stage(seed, n_focus, spec, steps=3, world=2, batch=6, T=8, run="s"):
    return {"run": run, "seed": seed, "batch": batch, "T": T, "world": world, "steps": steps,
            "focus": spec if n_focus else None, "n_focus": n_focus}


def drawn(s, step, rank):
    focus = FOCUS_LISTS[s["focus"]] if s["focus"] else None
    return window_starts(N_TOKENS, s["batch"], s["T"], s["seed"], step, rank, focus, s["n_focus"] / s["batch"])


STAGES = [stage(seed, n_focus, spec) for seed in (0, 1) for n_focus in (0, 2, 3)
          for spec in FOCUS_LISTS if not (n_focus == 0 and spec != next(iter(FOCUS_LISTS)))]


def test_same_window_is_exactly_when_the_drawn_windows_coincide():
    checked = 0
    for a, b in itertools.product(STAGES, repeat=2):
        for step, rank in itertools.product(range(3), range(2)):
            sa, sb = drawn(a, step, rank), drawn(b, step, rank)
            for index in range(a["batch"]):
                assert same_window(a, b, index) == (sa[index] == sb[index]), (a, b, step, rank, index)
                checked += 1
    assert checked > 1000


def test_repeated_windows_counts_what_brute_force_finds():
    chain = [stage(0, 2, (None, None, True), steps=5, world=2), stage(0, 0, None, steps=3, world=1),
             stage(1, 3, (None, None, True), steps=4, world=2), stage(0, 3, (None, None, True), steps=7, world=2)]
    expected = []
    for i, s in enumerate(chain):
        seen = {(step, rank, int(x)) for e in chain[:i] for step in range(e["steps"]) for rank in range(e["world"])
                for x in drawn(e, step, rank)}
        expected.append(sum((step, rank, int(x)) in seen for step in range(s["steps"]) for rank in range(s["world"])
                            for x in drawn(s, step, rank)))
    assert repeated_windows(chain) == expected
    assert expected[0] == 0 and expected[3] > 0


def test_plain_coverage_counts_distinct_tokens_of_the_plain_windows():
    n = 400  # small, so windows overlap
    chain = [stage(0, 2, (None, None, True), steps=4), stage(0, 0, None, steps=6, world=1), stage(5, 0, None)]
    covered = set()
    for s in chain:
        for step, rank in itertools.product(range(s["steps"]), range(s["world"])):
            for x in window_starts(n, s["batch"], s["T"], s["seed"], step, rank)[s["n_focus"]:]:
                covered.update(range(int(x), int(x) + s["T"] + 1))
    drawn_tokens = sum(s["steps"] * s["world"] * (s["batch"] - s["n_focus"]) * (s["T"] + 1) for s in chain)
    assert plain_coverage(chain, n) == (drawn_tokens, len(covered))


def write_run(folder, seed, steps, init_from=None, data="train/data"):
    os.makedirs(folder)
    args = {"seed": seed, "batch_size": 16, "block_size": 128, "world": 2, "focus_constructs": True, "focus_frac": 0.5,
            "focus_tokens": None, "focus_tasks": None, "init_from": init_from, "data": data}
    with open(os.path.join(folder, "train_args.json"), "w") as fh:
        json.dump(args, fh)
    with open(os.path.join(folder, "metrics.jsonl"), "w") as fh:
        fh.write(json.dumps({"step": steps, "tokens": steps * 4096}) + "\n")
    return args


def test_a_continuation_is_warned_only_when_it_would_train_on_windows_again(tmp_path):
    first = str(tmp_path / "first")
    args = write_run(first, seed=0, steps=100)
    second = str(tmp_path / "second")
    write_run(second, seed=3, steps=50, init_from=os.path.join(first, "ckpt.pt"))

    same_seed = continuation_warning(dict(args, seed=0), 80, 2, first)
    assert same_seed is not None and "2,560 of this stage's 2,560 windows (100%)" in same_seed
    longer = continuation_warning(dict(args, seed=0), 200, 2, first)
    assert "3,200 of this stage's 6,400 windows (50%)" in longer
    # The chain is followed back: seed 3 is new to `first` but not to `second`'s chain.
    assert continuation_warning(dict(args, seed=3), 80, 2, second) is not None
    assert continuation_warning(dict(args, seed=8), 80, 2, second) is None
    assert continuation_warning(dict(args, seed=0), 80, 2, str(tmp_path / "no-record")) is None


def test_stages_on_different_training_text_share_no_windows(tmp_path):
    """The same seed on the extended corpus draws its offsets in another token stream: nothing is read again."""
    first = str(tmp_path / "first")
    args = write_run(first, seed=0, steps=100)
    assert continuation_warning(dict(args, data="/elsewhere/train/data/extended"), 80, 2, first) is None
    assert continuation_warning(dict(args, data="/elsewhere/train/data"), 80, 2, first) is not None
    base = stage(0, 2, (None, None, True))
    extended = dict(base, text="extended")
    assert not any(same_window(dict(base, text="base"), extended, i) for i in range(base["batch"]))
    assert repeated_windows([dict(base, text="base"), extended, extended]) == [0, 0, 36]


def test_a_same_seed_stage_trained_by_train_py_is_warned_and_counted(tiny_data, tmp_path, capsys):
    import math

    import train as trainer
    from conftest import TINY
    from window_reuse import loss_on_windows, report

    first, second = tmp_path / "first", tmp_path / "second"
    trainer.train(trainer.parse_args(["--out", str(first), "--data", str(tiny_data), *TINY,
                                      "--total-tokens", str(10 * 64)]))
    assert "warning: --seed" not in capsys.readouterr().out
    trainer.train(trainer.parse_args(["--out", str(second), "--data", str(tiny_data), *TINY,
                                      "--total-tokens", str(6 * 64), "--init-from", os.path.join(first, "ckpt.pt")]))
    assert "warning: --seed 0: 24 of this stage's 24 windows (100%)" in capsys.readouterr().out
    out = report(str(second), str(tiny_data))
    assert [(s["windows"], s["windows_trained_before"]) for s in out["stages"]] == [(40, 0), (24, 24)]
    # 64 windows of T + 1 = 17 tokens; the second stage's are the first's, so they cover nothing new
    assert out["plain_window_tokens"] == 64 * 17 and 0 < out["distinct_tokens_covered"] <= 40 * 17
    assert out["text"] == "base" and out["stages_on_this_text"] == ["first", "second"]
    extended = tiny_data / "extended"  # the same tokens under the extended corpus's folder name
    extended.mkdir()
    for f in ("tokens_train.bin", "tokens_val.bin"):
        (extended / f).write_bytes((tiny_data / f).read_bytes())
    assert report(str(second), str(extended))["stages_on_this_text"] == []
    with pytest.raises(SystemExit, match="its last stage read the base training text"):
        loss_on_windows(str(second), str(extended), batches=2)
    loss = loss_on_windows(str(second), str(tiny_data), batches=2)
    assert loss["windows_each"] == 64
    measured = [v for k, v in loss.items() if k != "windows_each"]
    assert len(measured) == 3 and all(math.isfinite(m["mean"]) and m["se"] >= 0 for m in measured)
    with pytest.raises(SystemExit, match="at least 2 batches"):
        loss_on_windows(str(second), str(tiny_data), batches=1)
