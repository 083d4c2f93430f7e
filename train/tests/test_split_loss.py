"""split_loss scores checkpoints on named token splits: checked against next-token cross-entropy computed by hand."""
import json
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import TINY
import train as trainer
from split_loss import main, split_losses
from weights_file import load_model


def by_hand(ckpt: str, tokens: np.ndarray, windows: int) -> float:
    model, _ = load_model(ckpt)
    T = model.cfg.block_size
    stride = max(1, (len(tokens) - T - 1) // windows)
    losses = []
    with torch.no_grad():
        for i in range(windows):
            w = torch.from_numpy(tokens[i * stride:i * stride + T + 1].astype(np.int64))
            logits = model(w[None, :-1])[0]
            losses.append(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[1:]).item())
    return float(np.mean(losses))


@pytest.fixture
def trained(tiny_data, tmp_path):
    out = tmp_path / "run"
    trainer.train(trainer.parse_args(["--out", str(out), "--data", str(tiny_data), *TINY,
                                      "--total-tokens", str(10 * 64)]))
    # A second split of other text: the first 4,000 training tokens, reversed.
    np.fromfile(tiny_data / "tokens_train.bin", dtype=np.uint16)[:4000][::-1].tofile(tiny_data / "tokens_val_extra.bin")
    return str(out / "ckpt.pt"), tiny_data


def test_each_split_is_scored_as_next_token_cross_entropy(trained, capsys):
    ckpt, data = trained
    got = split_losses([ckpt], str(data), ["val", "val_extra"], windows=24)[ckpt]
    for split in ("val", "val_extra"):
        tokens = np.fromfile(data / f"tokens_{split}.bin", dtype=np.uint16)
        assert got[split] == pytest.approx(by_hand(ckpt, tokens, 24), abs=1e-4)
    assert got["val"] != got["val_extra"]
    capsys.readouterr()
    main(["--ckpt", ckpt, "--data", str(data), "--splits", "val", "--windows", "24"])
    assert json.loads(capsys.readouterr().out) == {ckpt: {"val": got["val"]}}


def test_a_missing_split_names_its_file_and_the_command_that_writes_it(trained):
    ckpt, data = trained
    with pytest.raises(SystemExit, match=r"tokens_heldout\.bin: no such token file \(train/data_prep\.py"):
        split_losses([ckpt], str(data), ["val", "heldout"])
    assert not os.path.exists(data / "tokens_heldout.bin")


def test_a_split_shorter_than_one_window_is_refused_by_name(trained):
    ckpt, data = trained
    np.arange(10, dtype=np.uint16).tofile(data / "tokens_tiny.bin")
    with pytest.raises(SystemExit, match=r"tokens_tiny\.bin: 10 tokens, fewer than a 16-token window needs \(17\)"):
        split_losses([ckpt], str(data), ["val", "tiny"])
