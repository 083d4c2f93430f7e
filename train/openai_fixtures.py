"""Fixtures shaped exactly like OpenAI's circuit-sparsity release (paper-notes sections 2, 7, 8), for testing
train/openai_import without the real (large) files.

  python train/openai_fixtures.py --small [--out test-fixtures/openai-small]
      A tiny random model in the blob layout, plus the importer's output of it:
        <out>/released/models/csp_tiny/{beeg_config.json, final_model.pt}
        <out>/released/tinypython/{encoder.json, vocab.bpe}
        <out>/released/viz/csp_tiny/mean_baseline_pretrain.pt
        <out>/released/viz/csp_tiny/<task>/prune_v4/k_optim/viz_data.pt   (two tasks)
        <out>/converted/                                                   (train/openai_import's model folder)
        <out>/viz-pkl/csp_tiny/<task>/prune_v4/k_optim/viz_data.pkl        (the same circuits, pickle.dump'ed)
  python train/openai_fixtures.py --viz-pickles [--out test-fixtures/openai-small]
      Only the viz-pkl/ files, from the released viz_data.pt files already there.
  python train/openai_fixtures.py --bridges2 test-fixtures/openai-large
      csp_bridges2's beeg_config.json verbatim (4 layers, d_model 2048, d_mlp 8192, 128 heads of 16, vocab 2048)
      with random weights at 1/128 density, and the project tokenizer (<|endoftext|> = 2047). About 0.9 GB; not
      committed (the folder is gitignored).

Faithful to the release: final_model.pt is torch.save(model.state_dict()) with the released key names and DENSE
tensors that are mostly zeros (no final_logits_bias: the loader must add zeros); beeg_config.json carries every
field of csp_bridges2's; viz_data.pt has the released structure with Python floats and tuples. The stored losses
(loss, interv_loss, ch_interv_losses, layer_interv_losses, all_loss) are per contrast pair (x2), computed here by
torch with mean ablation, independently of the importer's code.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import shutil
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from model import GPT, GPTConfig  # noqa: E402
from openai_import import import_released  # noqa: E402
from openai_fixture_viz import make_viz, quote_task, random_circuit, while_task  # noqa: E402
from reference_runs import compute_means  # noqa: E402
from tokenizer_train import EOT, bytes_to_unicode, data_gym_byte_order, load_tiktoken  # noqa: E402

TOK = os.path.join(HERE, "tokenizer")

# csp_bridges2's beeg_config.json, verbatim (paper-notes section 2).
BRIDGES2_CONFIG = {
    "block_size": 1024, "vocab_size": 2048, "n_layer": 4, "n_head": 128, "d_head": 16, "d_model": 2048,
    "dropout": 0.0, "bias": True, "ln_bias": True, "rms_norm": True, "residual_activation_type": "identity",
    "activation_type": "gelu", "afrac": 0.125,
    "afrac_loctypes": "attn_in,attn_out,mlp_in,mlp_out,mlp_neuron,attn_k,attn_q,attn_v",
    "afrac_approx": False, "enable_sparse_kernels": False, "ignore_dw_grad": False, "debug_nans": False,
    "tied_unembed": False, "bigram_table_rank": None, "tokenizer_name": "tinypython_2k", "pfrac": 0.5,
    "expansion_factor": 8, "expansion_factor_mlp": 8, "debug_exact_topk": True, "grad_checkpointing": True,
    "sparse_matmul_impl": "cuda", "d_mlp": 8192, "enable_bigram_table": True, "learnable_bigram_table": False,
    "d_pos_emb": None, "dropout_cat_pos_emb": False, "sinusoidal_cat_pos_emb": False, "flash": True, "sink": False,
    "rtopk": False, "n_embd": None,
}

# The small fixture: every csp_bridges2 field, small sizes, sink on (bigram on, not learnable, as in csp_bridges2).
SMALL_VOCAB = 288
SMALL_CONFIG = dict(BRIDGES2_CONFIG, block_size=64, vocab_size=SMALL_VOCAB, n_layer=2, n_head=2, d_head=16,
                    d_model=32, d_mlp=64, sink=True, afrac=0.25, expansion_factor=1, expansion_factor_mlp=1, pfrac=0.25)
SMALL_NAME = "csp_tiny"
SMALL_DENSITY = 0.25

MEANS_CORPUS = [
    "import os\nimport sys\n\n\ndef main(argv):\n    paths = [p for p in argv if os.path.exists(p)]\n"
    "    for path in paths:\n        with open(path) as fh:\n            text = fh.read()\n"
    "        print(\"%s: %d\" % (path, len(text)))\n    return 0\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n"
    "        self.items.append(x)\n\n    def pop(self):\n        return self.items.pop()\n",
    "values = [[1, 2], [3, 4]]\nnames = {'a': 1, \"b\": 2}\nwhile True:\n    if not values:\n        break\n"
    "    row = values.pop()\n    total = sum(row) if row else 0\n",
]


# ------------------------------------------------------------------------------------------------ tokenizer

def write_small_tokenizer(out_dir: str, vocab: int = SMALL_VOCAB) -> None:
    """The project tokenizer cut to `vocab` ids in the released data-gym format: the 256 bytes, its first
    vocab - 257 merges, and <|endoftext|> = vocab - 1 (as tinypython_2k has <|endoftext|> = 2047 for 2048)."""
    with open(os.path.join(TOK, "vocab.bpe"), encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    header, merges = lines[0], [ln for ln in lines[1:] if ln]
    keep = merges[:vocab - 257]
    b2u = bytes_to_unicode()
    encoder = {b2u[b]: i for i, b in enumerate(data_gym_byte_order())}
    for i, m in enumerate(keep):
        a, b = m.split(" ")
        assert a in encoder and b in encoder, f"merge {m!r} needs a dropped token"
        encoder[a + b] = 256 + i
    encoder[EOT] = vocab - 1
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "encoder.json"), "w", encoding="utf-8") as fh:
        json.dump(encoder, fh, ensure_ascii=False)
    with open(os.path.join(out_dir, "vocab.bpe"), "w", encoding="utf-8") as fh:
        fh.write(header + "\n" + "".join(m + "\n" for m in keep))
    enc = load_tiktoken(out_dir)
    assert enc.n_vocab == vocab and enc.eot_token == vocab - 1


# ------------------------------------------------------------------------------------------------ weights

def _sparsify_(p: torch.Tensor, density: float, gen: torch.Generator, std: float) -> None:
    n = p.numel()
    k = max(1, int(round(density * n)))
    p.zero_()
    idx = torch.randperm(n, generator=gen)[:k]
    p.view(-1)[idx] = torch.randn(k, generator=gen) * std


@torch.no_grad()
def random_released_model(beeg: dict, density: float, seed: int, std_scale: float = 1.0) -> GPT:
    """A GPT with the release's architecture and random mostly-zero weights (every matrix, embedding and bias at
    `density`; norms, sink logits and the bigram table dense)."""
    cfg = GPTConfig.from_dict(beeg)
    torch.manual_seed(seed)
    model = GPT(cfg)
    gen = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        if name == "bigram_table":
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3 * std_scale)
        elif name.endswith("sink_logit"):
            p.copy_(torch.randn(p.shape, generator=gen))
        elif name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
            p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
        elif name.endswith(".bias"):
            _sparsify_(p, density, gen, 0.1 * std_scale)
        else:  # 2-D: fan-in-scaled so that sparse activations stay O(1)
            fan_in = p.shape[1] if name != "transformer.wte.weight" and name != "transformer.wpe.weight" else 1
            std = (1.0 / max(1.0, density * fan_in)) ** 0.5 * std_scale
            if name == "transformer.wpe.weight":
                std *= 0.3
            _sparsify_(p, density, gen, std)
    model.eval()
    return model


def save_released(model: GPT, beeg: dict, model_dir: str) -> None:
    """beeg_config.json + final_model.pt = torch.save(state_dict()) with released names, dense tensors, and no
    final_logits_bias (older released checkpoints lack it; the loader adds zeros)."""
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "beeg_config.json"), "w") as fh:
        json.dump(beeg, fh)
    sd = model.state_dict()
    del sd["final_logits_bias"]
    torch.save(sd, os.path.join(model_dir, "final_model.pt"))


def make_small(out: str, convert: bool = True, seed: int = 0) -> None:
    rel = os.path.join(out, "released")
    if os.path.isdir(rel):
        shutil.rmtree(rel)
    tok_dir = os.path.join(rel, "tinypython")
    write_small_tokenizer(tok_dir)
    enc = load_tiktoken(tok_dir)
    beeg = dict(SMALL_CONFIG)
    model = random_released_model(beeg, SMALL_DENSITY, seed)
    model_dir = os.path.join(rel, "models", SMALL_NAME)
    save_released(model, beeg, model_dir)

    corpus = []
    for t in MEANS_CORPUS:
        corpus += enc.encode_ordinary(t) + [enc.eot_token]
    means = compute_means(model, np.asarray(corpus, dtype=np.int64), n_windows=16, batch=16)
    viz_root = os.path.join(rel, "viz", SMALL_NAME)
    os.makedirs(viz_root, exist_ok=True)
    torch.save({k: v.clone() for k, v in means.items()}, os.path.join(viz_root, "mean_baseline_pretrain.pt"))

    rng = random.Random(seed)
    for task, maker in (("single_double_quote", quote_task), ("while_return_true_beeg", while_task)):
        rows, prompts = maker(enc)
        kept = random_circuit(model.cfg, rng)
        viz = make_viz(model, beeg, means, rows, prompts, kept, seed, corpus)
        d = os.path.join(viz_root, task, "prune_v4", "k_optim")
        os.makedirs(d, exist_ok=True)
        torch.save(viz, os.path.join(d, "viz_data.pt"))
        print(f"{task}: k={sum(len(v) for v in kept.values())} loss x2 {viz['importances']['loss']:.5f} "
              f"interv_loss x2 {viz['importances']['interv_loss']:.5f}", file=sys.stderr)
    write_viz_pickles(out)
    if convert:
        convert_small(out)


# Protocol per task: 2 pickles the storages' bytes through _codecs.encode, 4 through BINBYTES inside FRAMEs.
VIZ_PICKLE_PROTOCOLS = {"single_double_quote": 2, "while_return_true_beeg": 4}


def viz_pickle_path(out: str, task: str) -> str:
    return os.path.join(out, "viz-pkl", SMALL_NAME, task, "prune_v4", "k_optim", "viz_data.pkl")


def write_viz_pickles(out: str) -> None:
    """The released viz_data.pt files as OpenAI's README names them, viz_data.pkl, written by plain pickle.dump
    (a bare pickle, each tensor's storage embedded through torch.storage._load_from_bytes). Kept outside released/
    so that the released folder still holds one circuit file per task."""
    shutil.rmtree(os.path.join(out, "viz-pkl"), ignore_errors=True)
    for task, protocol in VIZ_PICKLE_PROTOCOLS.items():
        viz = torch.load(os.path.join(out, "released", "viz", SMALL_NAME, task, "prune_v4", "k_optim", "viz_data.pt"),
                         weights_only=True)
        dest = viz_pickle_path(out, task)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as fh:
            pickle.dump(viz, fh, protocol=protocol)


def small_import_args(out: str) -> dict:
    """The importer arguments that produce <out>/converted from <out>/released (also used by the tests)."""
    rel = os.path.join(out, "released")
    viz = os.path.join(rel, "viz", SMALL_NAME)
    return dict(model_dir=os.path.join(rel, "models", SMALL_NAME), model_id="openai-small",
                name="csp_tiny (fixture shaped like the OpenAI release)",
                means_baseline=os.path.join(viz, "mean_baseline_pretrain.pt"),
                viz=[os.path.join(viz, t, "prune_v4", "k_optim", "viz_data.pt")
                     for t in ("single_double_quote", "while_return_true_beeg")],
                golden_prompts=2, golden_max_tokens=20)


def convert_small(out: str, dest: str = None) -> dict:
    dest = dest or os.path.join(out, "converted")
    return import_released(out=dest, force=True, **small_import_args(out))


def make_bridges2(out: str, seed: int = 0) -> None:
    beeg = dict(BRIDGES2_CONFIG)
    print("building csp_bridges2-shaped model (random weights at 1/128 density)…", file=sys.stderr)
    model = random_released_model(beeg, 1 / 128, seed)
    save_released(model, beeg, os.path.join(out, "models", "csp_bridges2"))
    tok = os.path.join(out, "tinypython")
    os.makedirs(tok, exist_ok=True)
    for fn in ("encoder.json", "vocab.bpe"):
        shutil.copyfile(os.path.join(TOK, fn), os.path.join(tok, fn))
    print(f"wrote {out}/models/csp_bridges2 and {out}/tinypython", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--small", action="store_true")
    g.add_argument("--bridges2", metavar="OUT")
    g.add_argument("--viz-pickles", action="store_true", help="only <out>/viz-pkl, from <out>/released")
    ap.add_argument("--out", default=os.path.join(ROOT, "test-fixtures", "openai-small"))
    ap.add_argument("--no-convert", action="store_true", help="--small: skip writing <out>/converted")
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    if a.small:
        make_small(a.out, convert=not a.no_convert)
    elif a.viz_pickles:
        write_viz_pickles(a.out)
    else:
        make_bridges2(a.bridges2)


if __name__ == "__main__":
    main()
