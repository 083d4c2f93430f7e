import os
import shutil

import pytest

from conftest import TINY
import train as trainer
from stages import training_stages, wall_seconds


def test_stages_follow_init_from_and_sum_sittings(tiny_data, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    trainer.train(trainer.parse_args(["--out", str(first), "--data", str(tiny_data), *TINY,
                                      "--total-tokens", str(10 * 64)]))
    # the second stage is trained in two sittings (stop at step 5, then resume)
    stage2 = ["--out", str(second), "--data", str(tiny_data), *TINY, "--total-tokens", str(10 * 64),
              "--init-from", os.path.join(first, "ckpt.pt"), "--anneal-start", "0", "--anneal-end", "0"]
    trainer.train(trainer.parse_args(stage2 + ["--stop-after", "5"]))
    trainer.train(trainer.parse_args(stage2))
    stages = training_stages(str(second))
    assert [s["run"] for s in stages] == ["first", "second"]
    assert [s["steps"] for s in stages] == [10, 10] and [s["tokens"] for s in stages] == [640, 640]
    assert all(s["wall_s"] > 0 and s["final_val_loss"] is not None for s in stages)
    assert stages[1]["command"].startswith("OMP_NUM_THREADS=") and "--init-from" in stages[1]["command"]
    # on another machine the stages' run folders are gone and their kept records sit side by side
    kept = tmp_path / "kept"
    for name in ("first", "second"):
        shutil.copytree(tmp_path / name, kept / name)
    shutil.rmtree(first)
    assert training_stages(str(kept / "second")) == stages
    shutil.rmtree(kept / "first")
    with pytest.raises(SystemExit, match="whose record"):
        training_stages(str(kept / "second"))


def test_wall_seconds_adds_each_sitting():
    recs = [{"sitting_s": 1.0}, {"sitting_s": 3.0}, {"sitting_s": 0.5}, {"sitting_s": 2.0}]
    assert wall_seconds(recs) == 5.0
    assert wall_seconds([{"tokens": 1000, "tok_per_s": 500.0}]) == 2.0
