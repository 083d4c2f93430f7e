"""A deeper model that computes exactly what a trained one computes: its layers, then new ones that write nothing yet.

Training a 4-layer model from nothing on this machine would take as many tokens again as the 2-layer model had; this
starts it where the trained model is. Every new block is appended after the last trained one with the usual random
(then weight-sparse) reads, the query/key/value and MLP-in weights, and all-zero writes, its attention and MLP output
projections and their biases. A block that writes zero leaves the residual stream as it was, so the grown model's
logits equal the trained model's, and training (train.py --init-from the grown folder) starts at the trained loss.
Gradient reaches the zero writes at once (it is the reads' activations times the loss's gradient) and, through
them, the reads one step later. The function-preserving growth is Net2Net's (Chen et al., 2016); the zero writes
are the usual way to get it in a residual network.

    python train/grow_depth.py --ckpt train/checkpoints/sparse-py-2l-d512-s/ckpt.pt --add 2 \\
        --out train/checkpoints/sparse-py-4l-d512-grown

(stage 19's weights, sparse-py-2l-d512-s/ckpt.pt, are in the history since stage 20 took their place in the tree:
git show e28d443:train/checkpoints/sparse-py-2l-d512-s/ckpt.pt > stage19.pt)

The folder gets the grown slim ckpt.pt, its config.json, and a train_args.json naming where it came from, so that
a stage trained from it (--init-from <folder>/ckpt.pt) keeps the whole chain of commands in its record.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from model import GPT, GPTConfig  # noqa: E402
from sparsity import project_  # noqa: E402
from stages import read_train_args  # noqa: E402
from weights_file import load_checkpoint, sparse_if_smaller  # noqa: E402

# The parameters through which a block writes to the residual stream: zero in a new block.
WRITES = ("attn.c_proj.weight", "attn.c_proj.bias", "mlp.c_proj.weight", "mlp.c_proj.bias")


def grow(ck: dict, add: int, l0: float, min_per_neuron: int, seed: int) -> tuple[GPT, GPTConfig]:
    """The model of checkpoint `ck` with `add` new blocks on top (reads sparse at `l0`, writes zero)."""
    if add < 1:
        raise SystemExit(f"--add {add}: add at least one layer")
    old = GPTConfig.from_dict(ck["config"])
    cfg = GPTConfig.from_dict(dict(old.to_dict(), n_layer=old.n_layer + add))
    torch.manual_seed(seed)
    model = GPT(cfg)
    state = model.state_dict()
    missing = [k for k in ck["model"] if k not in state]
    if missing:
        raise SystemExit(f"the checkpoint has weights this model lacks: {missing[:5]}")
    for name, value in ck["model"].items():
        if state[name].shape != value.shape:
            raise SystemExit(f"{name}: checkpoint shape {tuple(value.shape)}, model {tuple(state[name].shape)}")
        state[name] = value
    for layer in range(old.n_layer, cfg.n_layer):
        for write in WRITES:
            key = f"transformer.h.{layer}.{write}"
            if key in state:
                state[key] = torch.zeros_like(state[key])
    model.load_state_dict(state)
    with torch.no_grad():
        # The trained tensors already hold at most their k nonzeros, so this only makes the new reads sparse.
        project_(model, l0, min_per_neuron)
    return model, cfg


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ckpt", required=True, help="a trained checkpoint (a run's ckpt.pt or a slim copy)")
    p.add_argument("--add", type=int, required=True, help="how many blocks to append")
    p.add_argument("--out", required=True, help="the folder to write the grown model to")
    p.add_argument("--l0", type=float, default=None,
                   help="kept fraction of the new reads (default: the trained run's --l0)")
    p.add_argument("--seed", type=int, default=0, help="seed of the new reads' random values")
    a = p.parse_args(argv)

    ck = load_checkpoint(a.ckpt, named_by="--ckpt")
    src_dir = os.path.dirname(a.ckpt)
    src_args = read_train_args(src_dir) if os.path.exists(os.path.join(src_dir, "train_args.json")) else {}
    l0 = a.l0 if a.l0 is not None else src_args.get("l0")
    if l0 is None:
        raise SystemExit(f"{a.ckpt}: no train_args.json beside it to read --l0 from; give --l0")
    min_per_neuron = int(src_args.get("min_per_neuron", 4))
    model, cfg = grow(ck, a.add, float(l0), min_per_neuron, a.seed)

    os.makedirs(a.out, exist_ok=True)
    command = "python " + " ".join(shlex.quote(x) for x in ["train/grow_depth.py", *(argv if argv is not None
                                                                                       else sys.argv[1:])])
    tokens = int(ck.get("tokens", 0))
    torch.save({"model": {k: sparse_if_smaller(v) for k, v in model.state_dict().items()}, "config": cfg.to_dict(),
                "tokens": tokens, "init_tokens": tokens, "step": 0, "args": {"grown_from": a.ckpt, "add": a.add}},
               os.path.join(a.out, "ckpt.pt"))
    with open(os.path.join(a.out, "config.json"), "w") as fh:
        json.dump(cfg.to_dict(), fh, indent=2)
    # A record in train.py's shape, so that the stage tools follow the chain through the grown model: it trained
    # no steps of its own (an empty metrics.jsonl) and its batches are the source run's, which it did not train.
    record = dict(src_args, n_layer=cfg.n_layer, init_from=a.ckpt, command=command, total_tokens=0, total_steps=0,
                  init_tokens=tokens, grown_from=a.ckpt, grown_layers=a.add,
                  commands=src_args.get("commands", [src_args["command"]] if "command" in src_args else []) + [command])
    with open(os.path.join(a.out, "train_args.json"), "w") as fh:
        json.dump(record, fh, indent=2)
    open(os.path.join(a.out, "metrics.jsonl"), "w").close()
    print(f"{a.out}/ckpt.pt: {cfg.n_layer - a.add} -> {cfg.n_layer} layers, {tokens:,} tokens trained")


if __name__ == "__main__":
    main()
