import os

from conftest import TINY
import train as trainer

from stages import read_records, text_label
from stage_table import focus_label, main, markdown, stage_rows


def test_one_row_per_stage_with_its_recipe_and_the_rise_from_the_stage_before(tiny_data, tiny_tasks, tmp_path,
                                                                                  capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--data", str(tiny_data), *TINY, "--total-tokens", str(10 * 64), "--tasks-dir", tiny_tasks]
    trainer.train(trainer.parse_args(["--out", str(first), *common, "--lr", "0.01"]))
    trainer.train(trainer.parse_args(["--out", str(second), *common, "--init-from", os.path.join(first, "ckpt.pt"),
                                      "--anneal-start", "0", "--anneal-end", "0", "--lr", "0.002", "--seed", "7"]))
    rows = stage_rows(str(second), threshold=0.0)
    assert [(r["run"], r["seed"], r["lr"]) for r in rows] == [("first", 0, 0.01), ("second", 7, 0.002)]
    assert [(r["new_tokens"], r["tokens"]) for r in rows] == [(640, 640), (640, 1280)]
    evals = [[r["val_loss"] for r in read_records(str(d)) if "val_loss" in r] for d in (first, second)]
    assert (rows[0]["first_val"], rows[0]["last_val"]) == (evals[0][0], evals[0][-1])
    assert rows[0]["rise"] is None  # nothing before the first stage
    assert rows[1]["rise"] == evals[1][0] - evals[0][-1]
    # threshold 0: the one task counts as done at every evaluation
    assert [(r["tasks_at_end"], r["tasks_best"]) for r in rows] == [(1, 1), (1, 1)]
    assert all(r["wall_s"] > 0 and 0 <= r["mean_accuracy"] <= 1 and r["focus"] == "" for r in rows)
    assert [r["text"] for r in rows] == ["base", "base"]
    capsys.readouterr()  # the trainer's own output
    main(["--run", str(second), "--threshold", "0", "--from", "2"])
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 3 and printed[2].startswith("| second | 7 | 0.002 |  | base | 640 | 1,280 |")


def test_focus_label_names_the_share_the_kind_the_extras_and_the_weights():
    assert focus_label({"focus_frac": 0.0, "focus_constructs": True}) == ""
    assert focus_label({"focus_frac": 0.5}) == ""  # a share with nothing to place windows on
    assert focus_label({"focus_frac": 0.25, "focus_tasks": "public/models/x/tasks"}) == "0.25 task targets"
    label = focus_label({"focus_frac": 0.5, "focus_constructs": True, "focus_extra": ["subscript_in_list"],
                         "focus_weights": {"def_or_call": 2, "bracket_brace": 3.5}})
    assert label == "0.5 constructs +subscript_in_list bracket_brace=3.5 def_or_call=2"


def test_text_label_tells_the_extended_corpus_from_any_other_folder():
    assert text_label({"data": "train/data/extended"}) == "extended"
    assert text_label({"data": "/home/u/project/train/data/extended/"}) == "extended"
    assert text_label({"data": "train/data"}) == "base"
    assert text_label({}) == "base"  # records from before --data was recorded


def test_markdown_leaves_cells_empty_where_a_stage_logged_nothing():
    row = {"run": "s", "seed": 1, "lr": 6e-4, "focus": "", "text": "base", "new_tokens": 2_000_000,
           "tokens": 5_000_000, "wall_s": 1234.4, "first_val": 3.25, "last_val": 3.2, "rise": None,
           "tasks_at_end": None, "tasks_best": None, "mean_accuracy": None}
    line = markdown([row]).splitlines()[2]
    assert line == "| s | 1 | 0.0006 |  | base | 2.0M | 5.0M | 1,234 | 3.250 | 3.200 |  |  |  |"
    line = markdown([dict(row, rise=0.0183, tasks_at_end=5, tasks_best=6, mean_accuracy=0.8271)]).splitlines()[2]
    assert line.endswith("| 3.250 | 3.200 | +0.018 | 5 / 6 | 0.827 |")


def test_markdown_adds_the_val_extra_column_only_once_a_stage_measured_it():
    row = {"run": "s", "seed": 1, "lr": 6e-4, "focus": "", "text": "base", "new_tokens": 2_000_000,
           "tokens": 5_000_000, "wall_s": 1234.4, "first_val": 3.25, "last_val": 3.2, "rise": None,
           "tasks_at_end": 5, "tasks_best": 6, "mean_accuracy": 0.8271}
    assert "val_extra" not in markdown([row])  # tables of earlier stages print as before
    table = markdown([dict(row, last_val_extra=None), dict(row, run="t", text="extended", last_val_extra=3.0804)])
    head, _, old, new = table.splitlines()
    assert head.split(" | ")[9:11] == ["last val", "last val_extra"]
    assert old.endswith("| 3.250 | 3.200 |  |  | 5 / 6 | 0.827 |")  # not measured: an empty cell, not a zero
    assert new.endswith("| 3.250 | 3.200 | 3.080 |  | 5 / 6 | 0.827 |")
