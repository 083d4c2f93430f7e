import json
import os
import sys

import numpy as np
import pytest
import torch

TRAIN = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TRAIN)
torch.set_num_threads(1)

TINY = ["--n-layer", "1", "--d-model", "16", "--d-mlp", "32", "--n-head", "2", "--d-head", "8",
        "--block-size", "16", "--batch-size", "4", "--vocab-size", "64", "--l0", "0.25",
        "--eval-every", "5", "--eval-batches", "2", "--log-every", "5", "--no-progress"]


@pytest.fixture
def tiny_data(tmp_path):
    """A data folder with random tokens_{train,val}.bin over a 64-token vocabulary."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 20000), ("val", 4000)):
        rng.integers(0, 64, size=n).astype(np.uint16).tofile(tmp_path / f"tokens_{split}.bin")
    return tmp_path


@pytest.fixture
def tiny_tasks(tmp_path):
    """A tasks folder (train.py --tasks-dir) with one task of two test pairs over the tiny vocabulary."""
    d = tmp_path / "tasks"
    d.mkdir()
    side = lambda toks, c, a: {"tokens": toks, "correct": c, "alternative": a}  # noqa: E731
    pairs = [{"a": side([1, 2, 3], 4, 5), "b": side([1, 2, 6], 5, 4)}, {"a": side([7, 8], 9, 10), "b": side([7, 11], 10, 9)}]
    (d / "tiny_task.json").write_text(json.dumps({"task": "tiny_task", "train": pairs, "test": pairs}))
    return str(d)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The release-shaped OpenAI fixture converted once per test module: (folder, model card)."""
    from released_fixture import convert
    out = str(tmp_path_factory.mktemp("conv") / "openai-small")
    return out, convert(out)
