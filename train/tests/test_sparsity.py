import math

import torch

from model import GPT, GPTConfig, abs_topk
from sparsity import l0_frac, lr_at, project_, sparse_lr, sparsified_params, topk_mask


def tiny_model(**kw):
    torch.manual_seed(0)
    cfg = GPTConfig(block_size=16, vocab_size=64, n_layer=2, n_head=2, d_head=8, d_model=16, d_mlp=32, **kw)
    return GPT(cfg)


def test_sparsified_set():
    m = tiny_model(sink=True, enable_bigram_table=True)
    names = {n for n, _ in sparsified_params(m)}
    assert "transformer.wte.weight" in names and "transformer.wpe.weight" in names and "lm_head.weight" in names
    assert "transformer.h.0.attn.c_attn.bias" in names and "transformer.h.1.mlp.c_proj.weight" in names
    assert not any("ln_" in n or "sink" in n or "bigram" in n for n in names)


def test_exact_nonzero_count_every_projection():
    m = tiny_model()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    x = torch.randint(0, 64, (4, 16))
    for step in range(5):
        _, loss = m(x, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        frac = [0.9, 0.5, 0.25, 0.1, 0.05][step]
        ks = project_(m, frac, min_per_neuron=4)
        for name, p in sparsified_params(m):
            assert int((p != 0).sum()) == ks[name], (step, name)
            if name.endswith("c_fc.weight"):
                assert ks[name] == max(int(frac * p.numel()), p.shape[0] * 4)


def test_embeddings_keep_their_own_fraction():
    m = tiny_model()
    ks = project_(m, 0.05, min_per_neuron=0, embed_frac=0.25)
    for name, p in sparsified_params(m):
        want = int((0.25 if name in ("transformer.wte.weight", "lm_head.weight") else 0.05) * p.numel())
        assert ks[name] == max(want, 1), name
        if p.dim() == 2:  # biases start at zero, so they hold fewer nonzeros than they may keep
            assert int((p != 0).sum()) == ks[name], name
    assert project_(tiny_model(), 0.05, min_per_neuron=0) == project_(tiny_model(), 0.05, min_per_neuron=0, embed_frac=None)


def test_min_per_neuron():
    m = tiny_model()
    with torch.no_grad():
        # make one MLP neuron's weights tiny so a plain global top-k would remove them all
        m.transformer.h[0].mlp.c_fc.weight[3].mul_(1e-6)
        m.transformer.h[0].mlp.c_proj.weight[:, 5].mul_(1e-6)
        m.transformer.h[0].attn.c_attn.weight[7].mul_(1e-6)
        m.transformer.h[0].attn.c_proj.weight[:, 2].mul_(1e-6)
    project_(m, 0.01, min_per_neuron=4)
    for blk in m.transformer.h:
        assert ((blk.mlp.c_fc.weight != 0).sum(1) >= 4).all()
        assert ((blk.mlp.c_proj.weight != 0).sum(0) >= 4).all()
        assert ((blk.attn.c_attn.weight != 0).sum(1) >= 4).all()
        assert ((blk.attn.c_proj.weight != 0).sum(0) >= 4).all()
    w = m.transformer.h[0].mlp.c_fc.weight
    assert int((w[3] != 0).sum()) == 4


def test_topk_mask_keeps_largest():
    w = torch.tensor([[0.1, -5.0, 0.3], [2.0, 0.0, -0.2]])
    mask = topk_mask(w, 2)
    assert mask.tolist() == [[False, True, False], [True, False, False]]


def test_abs_topk():
    x = torch.tensor([[1.0, -4.0, 2.0, 0.5, -3.0, 0.1, 0.2, 0.3]])
    y = abs_topk(x, 2)
    assert y.tolist() == [[0.0, -4.0, 0.0, 0.0, -3.0, 0.0, 0.0, 0.0]]
    assert abs_topk(x, None) is x
    cfg = GPTConfig(d_model=16, afrac=0.25, afrac_loctypes="attn_in,attn_q")
    assert cfg.topk_k("attn_in", 16) == 4 and cfg.topk_k("attn_q", 48) == 12 and cfg.topk_k("mlp_in", 16) is None
    # q/k/v: one top-k across all heads together
    m = tiny_model(afrac=0.25, afrac_loctypes="attn_in,attn_out,mlp_in,mlp_out,mlp_neuron,attn_q,attn_k,attn_v")
    _, rec = m.run_with_hooks(torch.randint(0, 64, (2, 16)))
    assert ((rec["0.attn.q"] != 0).sum(-1) <= 4).all()  # floor(0.25 * 16)
    assert ((rec["0.mlp.post_act"] != 0).sum(-1) <= 8).all()
    assert ((rec["1.attn.act_in"] != 0).sum(-1) <= 4).all()


def test_schedules():
    T = 1000
    assert l0_frac(0, T, 1 / 16) == 1.0 and l0_frac(10, T, 1 / 16) == 1.0
    assert l0_frac(500, T, 1 / 16) == 1 / 16 and l0_frac(999, T, 1 / 16) == 1 / 16
    assert abs(l0_frac(255, T, 0.0) - 0.5) < 1e-9  # halfway between 1% and 50%
    assert lr_at(0, T, 1.0) == 0.1 and lr_at(9, T, 1.0) == 1.0
    assert lr_at(10, T, 1.0) == 1.0 and abs(lr_at(505, T, 1.0) - 0.5) < 1e-9 and lr_at(T, T, 1.0) == 0.0
    assert abs(sparse_lr(10, T, 1.0, 1 / 16) - math.sqrt(1 / 16)) < 1e-9
    assert abs(sparse_lr(600, T, 1.0, 1 / 16) - lr_at(600, T, 1.0)) < 1e-12
