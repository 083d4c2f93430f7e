import glob
import json
import os

import numpy as np
import torch
from safetensors import safe_open

from conftest import TRAIN
import export as ex
import model_folder as mf
import train as trainer
from model import hook_sites
from tokenizer_train import load_tiktoken

TOK = os.path.join(TRAIN, "tokenizer")


def make_data(tmp_path):
    """Corpus-shaped data folder from this package's own sources (files_*.jsonl + tokens_*.bin)."""
    enc = load_tiktoken(TOK)
    texts = [open(p, encoding="utf-8").read() for p in sorted(glob.glob(os.path.join(TRAIN, "*.py")))]
    # first, so that the quick checks (the first 20 held-out files) see its depth-2 brackets however many sources
    # the package has
    texts.insert(0, "x = [1, 2]\ny = [[1, 2], [3, 4]]\nz = ['a', \"b\"]\nw = [[5]]\n")
    data = tmp_path / "data"
    data.mkdir()
    for split in ("train", "val", "heldout"):
        with open(data / f"files_{split}.jsonl", "w") as fh:
            for i, t in enumerate(texts):
                fh.write(json.dumps({"sha256": str(i), "package": "x", "path": f"{i}.py", "text": t}) + "\n")
        ids = []
        for t in texts:
            ids += enc.encode_ordinary(t) + [enc.eot_token]
        np.asarray(ids, dtype=np.uint16).tofile(data / f"tokens_{split}.bin")
    return data


def test_export_round_trip(tmp_path):
    data = make_data(tmp_path)
    run = tmp_path / "run"
    args = trainer.parse_args(["--out", str(run), "--data", str(data), "--n-layer", "2", "--d-model", "32",
                               "--d-mlp", "64", "--n-head", "2", "--d-head", "16", "--block-size", "32",
                               "--batch-size", "4", "--l0", "0.0625", "--total-tokens", str(12 * 4 * 32),
                               "--no-progress", "--sink"])
    model, _ = trainer.train(args)
    out_root = tmp_path / "models"
    card = ex.export(str(run), "sparse-test", "Test", out_root=str(out_root), dense_twin="dense-test",
                     default=True, tok_dir=TOK, data_dir=str(data), quick=True)
    folder = out_root / "sparse-test"
    for f in ("config.json", "model.safetensors", "means.safetensors", "golden.safetensors", "model-card.json",
              "tokenizer/encoder.json", "tokenizer/vocab.bpe", "tokenizer/golden.json"):
        assert (folder / f).exists(), f
    # compact tensors: indices strictly increasing I32, values F32, shape in metadata
    with safe_open(str(folder / "model.safetensors"), framework="pt") as f:
        meta = f.metadata()
        assert meta["format"] == "sparse-circuit-explorer/1"
        assert json.loads(meta["sparse:lm_head.weight"]) == [2048, 32]
        idx = f.get_tensor("lm_head.weight.__indices")
        assert idx.dtype == torch.int32 and bool((idx[1:] > idx[:-1]).all())
        assert f.get_tensor("lm_head.weight.__values").dtype == torch.float32
        assert "transformer.h.0.ln_1.weight" in f.keys()  # dense tensors stay plain
        assert "transformer.h.0.attn.attn_imp.sink_logit" in f.keys()
    # densified weights give the same logits
    back = mf.load_model_folder(str(folder))
    x = torch.randint(0, 2048, (2, 32))
    model.eval()
    assert torch.allclose(back(x), model(x), atol=1e-5)
    # file size follows the nonzero count (~8 bytes per nonzero), far below dense fp32
    nnz = sum(int((p != 0).sum()) for p in model.parameters())
    total = sum(p.numel() for p in model.parameters())
    size = os.path.getsize(folder / "model.safetensors")
    assert size < 8 * nnz + 20000 and size < 4 * total / 2
    # means + golden: every hook site, right widths
    sites = hook_sites(model.cfg)
    with safe_open(str(folder / "means.safetensors"), framework="pt") as f:
        assert sorted(f.keys()) == sorted(n for n, _ in sites)
        for n, w in sites:
            assert list(f.get_tensor(n).shape) == [w]
    with safe_open(str(folder / "golden.safetensors"), framework="pt") as f:
        prompts = json.loads(f.metadata()["prompts"])
        assert len(prompts) == 5
        toks = f.get_tensor("p1.tokens")
        T = toks.shape[0]
        assert 20 <= T <= 40 and toks.dtype == torch.int32
        logits = f.get_tensor("p1.logits")
        assert list(logits.shape) == [T, 2048]
        assert torch.allclose(back(toks.long()[None])[0], logits, atol=1e-5)
        for n, w in sites:
            assert list(f.get_tensor(f"p1.{n}").shape) == [T, w]
    # model card + index
    assert card["kind"] == "sparse" and card["dense_twin"] == "dense-test"
    assert card["tokens_trained"] == 12 * 4 * 32
    assert 0 < card["weight_l0_fraction"] < 0.1
    assert card["checks"]["bracket"]["depth2"]["cases"] >= 1 and card["checks"]["quote"]["cases"] >= 1
    idx = json.load(open(out_root / "index.json"))
    assert idx["models"][0] == {"id": "sparse-test", "name": "Test", "kind": "sparse", "default": True}
    golden = json.load(open(folder / "tokenizer" / "golden.json", encoding="utf-8"))
    assert len(golden) >= 20 and all(set(g) == {"text", "ids"} for g in golden)
