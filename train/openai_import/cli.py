"""Import a model released with OpenAI's circuit-sparsity work (Gao et al. 2025) into our model folder format.

Usage:
  python train/openai_import <released-model-dir> [--id ID] [--name NAME] [--out-root public/models | --out DIR]
      [--tokenizer DIR] [--means-baseline mean_baseline_pretrain.pt | --means-corpus DIR_OR_FILE]
      [--viz [TASK=]viz_data.pt ...] [--targets TASK=JSON ...] [--sample-layout auto|prompt|with-target]
      [--golden-prompts 2] [--golden-max-tokens 64] [--drop-key NAME ...] [--ignore-config-key NAME ...]
      [--default] [--force]
  (npm run import-openai -- ... runs the same, with public/models as the default destination)

<released-model-dir> holds beeg_config.json and final_model.pt (the blob layout models/<m>/). What is converted,
and what is verified or assumed: docs/openai-import.md.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

from .common import ROOT, OpenAIImportError
from .pipeline import import_released


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="openai_import", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("released", help="released model folder (beeg_config.json + final_model.pt)")
    ap.add_argument("--id", default=None, help="model id (default: the folder's name)")
    ap.add_argument("--name", default=None)
    ap.add_argument("--out-root", default=None, help="models folder: writes <out-root>/<id>/ and updates index.json "
                                                     "(default public/models unless --out is given)")
    ap.add_argument("--out", default=None, help="write exactly this folder (no index.json update)")
    ap.add_argument("--tokenizer", default=None, help="folder with encoder.json + vocab.bpe (default: found near the model)")
    ap.add_argument("--means-baseline", default=None, help="released mean_baseline_pretrain.pt ({site: tensor[width]})")
    ap.add_argument("--means-corpus", default=None, help="folder of .py/.txt files, or a uint16 tokens .bin")
    ap.add_argument("--means-windows", type=int, default=128)
    ap.add_argument("--means-window-tokens", type=int, default=256)
    ap.add_argument("--viz", nargs="+", action="extend", default=[], help="[TASK=]viz_data.pt or viz_data.pkl, read by content (task from the blob path)")
    ap.add_argument("--targets", nargs="+", action="extend", default=[], help="TASK=JSON array of two strings or ids")
    ap.add_argument("--sample-layout", choices=["auto", "prompt", "with-target"], default="auto")
    ap.add_argument("--golden-prompts", type=int, default=2)
    ap.add_argument("--golden-max-tokens", type=int, default=64)
    ap.add_argument("--drop-key", nargs="+", action="extend", default=[],
                    help="a checkpoint tensor known not to change the forward pass (e.g. a causal-mask buffer)")
    ap.add_argument("--ignore-config-key", nargs="+", action="extend", default=[],
                    help="an unknown beeg_config.json key known not to change the forward pass")
    ap.add_argument("--kind", choices=["sparse", "dense"], default=None)
    ap.add_argument("--default", action="store_true", help="make it the index's default model")
    ap.add_argument("--force", action="store_true", help="overwrite a non-empty output folder")
    return ap


def main(argv=None) -> int:
    a = parser().parse_args(argv)
    model_id = a.id or os.path.basename(os.path.normpath(a.released))
    out_root = a.out_root if a.out_root or a.out else os.path.join(ROOT, "public", "models")
    out = a.out or os.path.join(out_root, model_id)
    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    try:
        card = import_released(a.released, model_id, out, name=a.name, tokenizer=a.tokenizer,
                               means_baseline=a.means_baseline, means_corpus=a.means_corpus,
                               means_windows=a.means_windows, means_window_tokens=a.means_window_tokens,
                               viz=a.viz, targets=a.targets, sample_layout=a.sample_layout,
                               golden_prompts=a.golden_prompts, golden_max_tokens=a.golden_max_tokens,
                               drop_keys=tuple(a.drop_key), ignore_config_keys=tuple(a.ignore_config_key),
                               kind=a.kind, out_root=out_root if not a.out or a.out_root else None,
                               default=a.default, force=a.force)
    except OpenAIImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({k: card[k] for k in ("id", "kind", "nonzero_params", "weight_l0_fraction", "circuits")}, indent=2))
    return 0
