import os

from conftest import TINY
import train as trainer
import pytest

from task_curve import embed_frac, main, markdown, side_by_side, training_curve


def test_curve_follows_stages_with_cumulative_tokens(tiny_data, tiny_tasks, tmp_path, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--data", str(tiny_data), *TINY, "--total-tokens", str(10 * 64), "--tasks-dir", tiny_tasks]
    trainer.train(trainer.parse_args(["--out", str(first), *common]))
    trainer.train(trainer.parse_args(["--out", str(second), *common, "--init-from", os.path.join(first, "ckpt.pt"),
                                      "--anneal-start", "0", "--anneal-end", "0"]))
    rows = training_curve(str(second))
    # eval every 5 steps of 10, in each of two stages; tokens count on from the first stage
    assert [r["run"] for r in rows] == ["first", "first", "second", "second"]
    assert [r["tokens"] for r in rows] == [320, 640, 960, 1280]
    assert all(set(r["task_accuracy"]) == {"tiny_task"} and 0 <= r["task_accuracy"]["tiny_task"] <= 1 for r in rows)
    table = markdown(rows, threshold=0.0).splitlines()
    assert len(table) == 2 + len(rows) and table[0].split(" | ")[-1] == "tiny_task |"
    # with threshold 0 every task counts as done
    assert all(line.split(" | ")[4] == "1" for line in table[2:])
    capsys.readouterr()  # the trainer's own output
    main(["--run", str(second), "--every", "3"])
    printed = capsys.readouterr().out.splitlines()
    # every third evaluation and the last: rows 0 and 3
    assert [line.split(" | ")[0] for line in printed[2:]] == ["| 320", "| 1,280"]


def test_embed_fraction_follows_the_matrices_along_their_anneal():
    # 100 steps, annealed from dense between steps 10 and 50
    args = {"l0": 1 / 32, "embed_l0": 1 / 8, "total_steps": 100, "anneal_start": 0.1, "anneal_end": 0.5}
    assert embed_frac(args, 0) == 1.0  # dense before the anneal starts
    assert abs(embed_frac(args, 50) - 1 / 8) < 1e-12 and abs(embed_frac(args, 99) - 1 / 8) < 1e-12  # at the target
    assert abs(embed_frac(args, 30) - (1 + (1 / 8 - 1) / 2)) < 1e-12  # halfway
    # no split, or a dense run: nothing to show
    assert embed_frac(dict(args, embed_l0=None), 50) is None
    assert embed_frac(dict(args, dense=True), 50) is None


def test_curve_shows_the_embedding_fraction_of_a_split_run(tiny_data, tiny_tasks, tmp_path, capsys):
    out = tmp_path / "split"
    trainer.train(trainer.parse_args(["--out", str(out), "--data", str(tiny_data), *TINY, "--total-tokens",
                                      str(10 * 64), "--tasks-dir", tiny_tasks, "--l0", "0.25", "--embed-l0", "0.5",
                                      "--anneal-start", "0", "--anneal-end", "0"]))
    rows = training_curve(str(out))
    assert [(r["l0_frac"], r["embed_frac"]) for r in rows] == [(0.25, 0.5), (0.25, 0.5)]
    capsys.readouterr()
    main(["--run", str(out)])
    cells = [line.split(" | ")[2] for line in capsys.readouterr().out.splitlines()[2:]]
    assert cells == ["1/4, embeddings 1/2", "1/4, embeddings 1/2"]


def _row(run, tokens, loss, **acc):
    return {"run": run, "tokens": tokens, "l0_frac": 1 / 32, "embed_frac": None, "val_loss": loss, "task_accuracy": acc}


def test_side_by_side_lines_up_evaluations_at_equal_tokens():
    wide = [_row("wide", 1_000_000, 3.5, a=0.95, b=0.5, c=0.9), _row("wide", 3_000_000, 3.4, a=0.95, b=0.7, c=0.8)]
    # the narrow run evaluated at 1M and 2M only, and logged one task more
    narrow = [_row("narrow", 1_000_000, 3.6, a=0.90, b=0.5, c=0.95, d=1.0), _row("narrow", 2_000_000, 3.55, a=0.9, b=0.5, c=0.9)]
    lines = side_by_side(wide, narrow).splitlines()
    assert lines[0].startswith("| tokens | val loss wide | val loss narrow |")
    assert len(lines) == 3  # only 1M is shared
    # tasks a, b, c (d only one run logged): each run does a and c (>= 0.9); a better, b equal, c worse; means
    # over a, b and c
    assert lines[2] == "| 1.0M | 3.500 | 3.600 | 2 | 2 | 0.783 | 0.783 | 1 / 1 / 1 |"
    with pytest.raises(SystemExit, match="no evaluation at the same token count"):
        side_by_side(wide[1:], narrow)


def test_curve_shows_val_extra_only_where_a_stage_measured_it():
    rows = [dict(_row("base", 1_000_000, 3.2, a=0.95), val_extra_loss=None),
            dict(_row("extended", 2_000_000, 3.21, a=0.85), val_extra_loss=3.0804)]
    assert "val_extra" not in markdown([dict(r, val_extra_loss=None) for r in rows])
    head, _, before, after = markdown(rows).splitlines()
    assert head.startswith("| tokens | stage | weights kept | val loss | val_extra loss | tasks >= 0.9 |")
    assert before.split(" | ")[3:6] == ["3.200", "", "1"]  # not measured there: an empty cell
    assert after.split(" | ")[3:6] == ["3.210", "3.080", "0"]
