"""scripts/make-bridges2-model.py on a small config: exact 1/128 density, live/dead rows, and the numerical
robustness it is built for (float32 and float64 agree; no AbsTopK decision near a tie)."""
import importlib.util
import math
import os

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location("make_bridges2", os.path.join(ROOT, "scripts/make-bridges2-model.py"))
mk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mk)

from model import GPT, GPTConfig  # noqa: E402

SMALL = dict(mk.BRIDGES2, n_layer=2, d_model=256, d_mlp=1024, n_head=16, d_head=16, vocab_size=512, block_size=64)


def test_every_matrix_and_bias_has_exactly_one_in_128_nonzero():
    cfg = GPTConfig.from_dict(SMALL)
    sd = mk.random_state(cfg, 0)
    for k, v in sd.items():
        if k == "bigram_table":
            assert int((v != 0).sum()) == v.numel()
        elif k == "final_logits_bias":
            assert int((v != 0).sum()) == 0
        elif ".ln_" in k or k.startswith("transformer.ln_f"):
            assert v.dim() == 1
        else:
            assert int((v != 0).sum()) == max(1, round(v.numel() / 128)), k


def test_dead_rows_are_tiny_and_live_rows_fewer_than_abstopk_keeps():
    cfg = GPTConfig.from_dict(SMALL)
    sd = mk.random_state(cfg, 1)
    w = sd["transformer.h.0.mlp.c_fc.weight"]
    row_max = w.abs().max(dim=1).values
    live = row_max > 1e-3
    assert 0 < int(live.sum()) <= int(cfg.afrac * cfg.d_mlp)
    assert float(row_max[~live].max()) < 1e-4


def test_float32_and_float64_agree_and_no_abstopk_near_tie():
    torch.manual_seed(0)
    cfg = GPTConfig.from_dict(SMALL)
    model = GPT(cfg)
    model.load_state_dict(mk.random_state(cfg, 2))
    model.eval()
    ids = [int(i) for i in torch.randint(0, cfg.vocab_size, (48,))]
    l32, _ = mk.reference(model, ids)
    model = model.double()
    l64, _ = mk.reference(model, ids)
    assert float((l32.double() - l64).abs().max() / l64.abs().max()) < 1e-5
    risk, _ = mk.topk_tie_risk(model, ids)
    assert risk < 1e-4
    assert math.isfinite(float(l64.abs().max()))


SMALL_YOLO = dict(mk.YOLO2, n_layer=2, d_model=256, d_mlp=1024, n_head=16, d_head=16, vocab_size=512, block_size=64)


def test_shapes_are_the_released_ones():
    for key in ("d_model", "d_mlp", "n_head", "d_head", "vocab_size", "block_size", "afrac", "enable_bigram_table"):
        assert mk.YOLO2[key] == mk.BRIDGES2[key], key
    assert (mk.BRIDGES2["n_layer"], mk.BRIDGES2["sink"]) == (4, False)
    assert (mk.YOLO2["n_layer"], mk.YOLO2["sink"]) == (8, True)
    assert mk.SHAPES["yolo2"]["density"] == 1 / 1000


def test_sparse_generation_has_exact_counts_at_one_in_1000_and_distinct_positions():
    cfg = GPTConfig.from_dict(SMALL_YOLO)
    sd = mk.sparse_state(cfg, 0, 1 / 1000)
    for k, v in sd.items():
        if isinstance(v, mk.Sparse):
            assert v.idx.numel() == max(1, round(math.prod(v.shape) / 1000)), k
            assert bool((v.idx[1:] > v.idx[:-1]).all()), k  # increasing, hence distinct
            assert bool((v.vals != 0).all()), k
    assert sd["transformer.h.1.attn.attn_imp.sink_logit"].shape == (16,)


def test_sparse_model_computes_what_the_dense_model_computes(tmp_path):
    from model_folder import read_model_safetensors
    from safetensors.torch import save_file

    cfg = GPTConfig.from_dict(SMALL_YOLO)
    sd = mk.sparse_state(cfg, 3, 1 / 64)
    dense = GPT(cfg)
    dense.load_state_dict({k: v.dense() if isinstance(v, mk.Sparse) else v for k, v in sd.items()})
    sparse = mk.sparse_model(cfg, sd)
    ids = [int(i) for i in torch.randint(0, cfg.vocab_size, (40,), generator=torch.Generator().manual_seed(1))]
    ld, sites_d = mk.reference(dense.double(), ids)
    ls, sites_s = mk.reference(sparse.double(), ids)
    assert float((ld - ls).abs().max() / ld.abs().max()) < 1e-12
    for name in sites_d:
        assert float((sites_d[name] - sites_s[name]).abs().max()) <= 1e-12 * max(1.0, float(sites_d[name].abs().max())), name
    # The compact tensors written read back as the dense state.
    tensors, meta = mk.compact_tensors(sd)
    save_file(tensors, str(tmp_path / "model.safetensors"), metadata=meta)
    back = read_model_safetensors(str(tmp_path / "model.safetensors"))
    for k, v in sd.items():
        assert torch.equal(back[k], v.dense() if isinstance(v, mk.Sparse) else v), k
