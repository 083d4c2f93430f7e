"""Paths and helpers shared by the OpenAI-importer tests: the release-shaped fixture test-fixtures/openai-small
(made by train/openai_fixtures.py) and ways to load or copy its released files."""
import json
import os
import shutil

import torch

from conftest import TRAIN
import openai_fixtures as of
import openai_import as oi
from model import GPT, GPTConfig

ROOT = os.path.dirname(TRAIN)
FIX = os.path.join(ROOT, "test-fixtures", "openai-small")
RELEASED = os.path.join(FIX, "released")
MODEL_DIR = os.path.join(RELEASED, "models", of.SMALL_NAME)
VIZ_DIR = os.path.join(RELEASED, "viz", of.SMALL_NAME)
TASKS = ("single_double_quote", "while_return_true_beeg")


def viz_path(task):
    return os.path.join(VIZ_DIR, task, "prune_v4", "k_optim", "viz_data.pt")


def convert(out):
    """The fixture converted by the importer into out -> the model card."""
    return oi.import_released(out=out, **of.small_import_args(FIX))


def released_model():
    """The fixture's model straight from the released files (torch.load + our GPT), not via the importer."""
    with open(os.path.join(MODEL_DIR, "beeg_config.json")) as fh:
        beeg = json.load(fh)
    m = GPT(GPTConfig.from_dict(beeg))
    sd = torch.load(os.path.join(MODEL_DIR, "final_model.pt"), weights_only=True)
    sd["final_logits_bias"] = torch.zeros(beeg["vocab_size"])
    m.load_state_dict(sd, strict=True)
    return m.eval()


def copy_released(tmp_path):
    """A writable copy of the released model folder and its tokenizer (blob layout kept)."""
    dst = tmp_path / "released"
    shutil.copytree(os.path.join(RELEASED, "models"), dst / "models")
    shutil.copytree(os.path.join(RELEASED, "tinypython"), dst / "tinypython")
    return str(dst / "models" / of.SMALL_NAME)
