"""Checkpoints small enough to keep in the repository, and reading any checkpoint.

A run's ckpt.pt holds the weights, Adam's two moments and the RNG state: three times the model, dense. What a later
stage (--init-from) or export.py needs is the weights alone, and in a weight-sparse model nearly all of them are
zero, so `slim` writes them with every mostly-zero tensor in sparse (COO) form: a 2-layer d_model 512 model at 1/32
goes from about 100 MB to a few MB. The values are the same floats, so a model loaded from the slim file is the
same model. Sparse tensors load with torch.load(weights_only=True) like any other (torch checks their indices).

    python train/weights_file.py --run train/runs/<run> --to train/checkpoints/<run>

copies the run's record (config.json, train_args.json, metrics.jsonl) and writes the slim ckpt.pt beside it.
"""
from __future__ import annotations

import argparse
import os
import shutil
import warnings

import torch

from model import GPT, GPTConfig

RECORD_FILES = ("config.json", "train_args.json", "metrics.jsonl")
# A COO entry costs two int64 indices and a float32 value (20 bytes) against 4 bytes a dense entry, so a tensor is
# smaller sparse when fewer than one in five of its entries are nonzero.
SPARSE_BYTES_PER_NONZERO, DENSE_BYTES_PER_ENTRY = 20, 4
# What a later stage and export.py read from a checkpoint; Adam's state, the RNG state and the running loss stay out.
KEPT_KEYS = ("model", "config", "args", "step", "init_tokens", "tokens")


def require_weights(path: str, named_by: str = "") -> None:
    """Refuse a missing checkpoint with what to do (named_by: the flag that named it, for the message). A kept stage
    record (train/checkpoints/<id>/) may hold no weights: only the newest stage of a chain keeps its slim weights in
    the tree, the earlier ones are in the git history; a probe's weights are in no commit, only its command."""
    if os.path.isfile(path):
        return
    said = f"{named_by} {path}" if named_by else path
    if os.path.isfile(os.path.join(os.path.dirname(path), "train_args.json")):
        raise SystemExit(f"{said}: no such file; its folder keeps that stage's record but not its weights "
                         f"(train/README.md, 'Which weights are kept', names the commit to take them from with "
                         f"git show, or, for a probe whose weights no commit holds, the command that re-makes them)")
    raise SystemExit(f"{said}: no such file")


def load_checkpoint(path: str, device: str | torch.device = "cpu", named_by: str = "") -> dict:
    """A training checkpoint, full or slim, with every weight dense again (load_state_dict takes dense tensors)."""
    require_weights(path, named_by)
    with warnings.catch_warnings():
        # torch says that it checks the sparse tensors' indices when loading with weights_only, which is wanted
        warnings.filterwarnings("ignore", message="Validating sparse tensor invariants")
        ck = torch.load(path, map_location=device, weights_only=True)
    ck["model"] = {k: v.to_dense() if v.is_sparse else v for k, v in ck["model"].items()}
    return ck


def load_model(path: str, device: str | torch.device = "cpu") -> tuple[GPT, dict]:
    """The GPT a checkpoint (full or slim) describes, in eval mode, and the checkpoint itself."""
    ck = load_checkpoint(path, device)
    model = GPT(GPTConfig.from_dict(ck["config"])).to(device)
    model.load_state_dict(ck["model"])
    model.eval()
    return model, ck


def sparse_if_smaller(t: torch.Tensor) -> torch.Tensor:
    if t.dim() >= 1 and int(t.count_nonzero()) * SPARSE_BYTES_PER_NONZERO < t.numel() * DENSE_BYTES_PER_ENTRY:
        return t.to_sparse().coalesce()
    return t


def slim(ckpt_path: str, out_path: str) -> None:
    """Write ckpt_path's weights (and what describes them) to out_path, mostly-zero tensors in sparse form."""
    ck = load_checkpoint(ckpt_path)
    small = {k: ck[k] for k in KEPT_KEYS if k in ck}
    small["model"] = {k: sparse_if_smaller(v) for k, v in ck["model"].items()}
    tmp = out_path + ".tmp"
    torch.save(small, tmp)
    os.replace(tmp, out_path)


def keep_run(run_dir: str, dest: str) -> None:
    """A run folder's record and its weights, slim, in dest (a folder of train/checkpoints/)."""
    if os.path.abspath(run_dir) == os.path.abspath(dest):
        raise SystemExit(f"{dest}: the slim copy must go to another folder than the run's own")
    os.makedirs(dest, exist_ok=True)
    for name in RECORD_FILES:
        src = os.path.join(run_dir, name)
        if not os.path.exists(src):
            raise SystemExit(f"{run_dir}: no {name}; is it a train.py run folder?")
        shutil.copyfile(src, os.path.join(dest, name))
    slim(os.path.join(run_dir, "ckpt.pt"), os.path.join(dest, "ckpt.pt"))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="a train.py run folder")
    p.add_argument("--to", required=True, help="the folder to write the record and the slim ckpt.pt to")
    a = p.parse_args(argv)
    keep_run(a.run, a.to)
    mb = os.path.getsize(os.path.join(a.to, "ckpt.pt")) / 1e6
    print(f"{a.to}/ckpt.pt: {mb:.1f} MB (from {os.path.getsize(os.path.join(a.run, 'ckpt.pt')) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
