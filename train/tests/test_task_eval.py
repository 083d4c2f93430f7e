"""task_eval.py against the TypeScript runtime: the full-model task metrics that `npm run prune` stored in the
shipped circuit files (computed by TF.js) are reproduced by the PyTorch model from the same model folder."""
import glob
import json
import os

import pytest

from conftest import TRAIN
from model_folder import load_model_folder
from task_eval import evaluate_tasks, load_tasks, paired_standard_error, pooled

FOLDER = os.path.join(os.path.dirname(TRAIN), "public", "models", "sparse-py-2l")


@pytest.mark.skipif(not os.path.isdir(FOLDER), reason="shipped model folder absent")
def test_full_model_metrics_match_the_circuit_files():
    model = load_model_folder(FOLDER)
    results = evaluate_tasks(model, load_tasks(os.path.join(FOLDER, "tasks")))
    checked = 0
    for path in sorted(glob.glob(os.path.join(FOLDER, "circuits", "*.json"))):
        with open(path) as fh:
            circuit = json.load(fh)
        r = results[circuit["task"]]
        assert r["accuracy"] == pytest.approx(circuit["full_model_accuracy"], abs=1e-9), circuit["task"]
        assert r["loss"] == pytest.approx(circuit["full_model_loss"], abs=1e-4), circuit["task"]
        checked += 1
    assert checked == 14


@pytest.mark.skipif(not os.path.isdir(FOLDER), reason="shipped model folder absent")
def test_the_two_sides_of_the_pairs_make_up_the_whole():
    """Each pair gives one prompt to each side, so a task's accuracy is the mean of its two sides' (same count)."""
    tasks_dir = os.path.join(FOLDER, "tasks")
    both, side_a, side_b = (load_tasks(tasks_dir, sides=s) for s in ("ab", "a", "b"))
    with open(os.path.join(tasks_dir, "single_double_quote.json")) as fh:
        first = json.load(fh)["test"][0]
    assert side_a["single_double_quote"][0] == first["a"] and side_b["single_double_quote"][0] == first["b"]
    model = load_model_folder(FOLDER)
    whole, a, b = (evaluate_tasks(model, t) for t in (both, side_a, side_b))
    for name, r in whole.items():
        assert a[name]["prompts"] == b[name]["prompts"] == r["prompts"] // 2, name
        assert r["accuracy"] == pytest.approx((a[name]["accuracy"] + b[name]["accuracy"]) / 2, abs=1e-12), name
        both_sides = pooled(a[name], b[name])
        assert both_sides["prompts"] == r["prompts"], name
        assert both_sides["accuracy"] == pytest.approx(r["accuracy"], abs=1e-12), name
        assert both_sides["loss"] == pytest.approx(r["loss"], abs=1e-9), name


@pytest.mark.skipif(not os.path.isdir(FOLDER), reason="shipped model folder absent")
def test_prompt_tokens_cut_prompts_on_the_left_and_cap_at_the_context():
    """A column at the model's context (or beyond it) is the plain evaluation; a shorter one is the same pairs with
    each prompt's last N tokens, which changes at least one task's accuracy on real prompts."""
    model = load_model_folder(FOLDER)
    tasks = load_tasks(os.path.join(FOLDER, "tasks"))
    plain = evaluate_tasks(model, tasks)
    assert evaluate_tasks(model, tasks, model.cfg.block_size) == plain
    with_errors = evaluate_tasks(model, tasks, paired=True)
    assert {name: {k: v for k, v in r.items() if k != "standard_error"} for name, r in with_errors.items()} == plain
    assert all(0 <= r["standard_error"] < 0.5 for r in with_errors.values())
    assert evaluate_tasks(model, tasks, 10 * model.cfg.block_size) == plain
    short = evaluate_tasks(model, tasks, 8)
    assert any(short[name]["accuracy"] != plain[name]["accuracy"] for name in plain)
    cut = {name: [dict(p, tokens=p["tokens"][-8:]) for p in prompts] for name, prompts in tasks.items()}
    assert evaluate_tasks(model, cut) == short


def test_paired_standard_error_is_taken_over_pairs_not_prompts():
    # 90 pairs right on both sides and 10 wrong on both: accuracy 0.9 over 100 pairs, error sqrt(0.9 * 0.1 / 99),
    # larger than the binomial error over 200 prompts (0.0212) that treats the two sides as independent
    both = [True, True] * 90 + [False, False] * 10
    assert paired_standard_error(both) == pytest.approx((0.09 / 99) ** 0.5)
    assert paired_standard_error(both) > (0.09 / 200) ** 0.5
    # exactly one side of every pair right: the accuracy is 0.5 in every pair, so nothing varies between pairs
    assert paired_standard_error([True, False] * 50) == 0.0
    assert paired_standard_error([True, True] * 26) == 0.0
    with pytest.raises(ValueError, match="whole pairs"):
        paired_standard_error([True, False, True])
