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
