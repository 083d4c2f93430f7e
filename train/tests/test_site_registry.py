"""The Python side agrees with src/model/registry/registry.json, the one table of sites and edge kinds: train/model.py's
forward pass records every registry site at the registry's width and applies AbsTopK where the registry says, the
weight edges name real tensors of the stated shapes that really connect those sites, and snippets.py's unsigned kinds
are the registry's."""
import json
import math

import pytest
import torch
import torch.nn.functional as F

import site_registry as reg
import snippets
from model import GPT, LOCTYPES_ALL, GPTConfig, Hooks, hook_sites

CFG = dict(block_size=16, vocab_size=64, n_layer=2, n_head=2, d_head=4, d_model=16, d_mlp=32)
# Sites the forward pass records besides the node sites: the residual stream between sublayers and the attention
# output before c_proj (the input of the attn.v -> attn.resid_delta edge's matrix).
NOT_NODES = {"resid_in", "resid_mid", "attn.y"}


def run(**over):
    torch.manual_seed(0)
    model = GPT(GPTConfig(**dict(CFG, **over))).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # biases and norms away from their init
    rec = {}
    with torch.no_grad():
        model(torch.randint(0, CFG["vocab_size"], (2, 12)), hooks=Hooks(rec))
    return model, rec


def test_the_file_is_the_registry_the_runtime_reads():
    with open(reg.REGISTRY_PATH, encoding="utf-8") as fh:
        raw = json.load(fh)
    assert raw["format"] == reg.FORMAT and raw["version"] == 1 and raw["weightOrientation"] == "out_in"
    assert raw["nodeId"] == {"layerSite": "{layer}.{kind}", "globalSite": "{kind}", "node": "{site}:{channel}"}
    assert [k.kind for k in reg.site_kinds()] == [k["kind"] for k in raw["siteKinds"]]


def test_forward_records_every_registry_site_at_its_width():
    model, rec = run()
    sites = hook_sites(model.cfg)
    assert sites == reg.sites(model.cfg)
    assert len(sites) == CFG["n_layer"] * sum(k.scope == "layer" for k in reg.site_kinds()) + \
        sum(k.scope == "global" for k in reg.site_kinds())
    for name, width in sites:
        assert tuple(rec[name].shape) == (2, 12, width), name
    extra = {reg.site_kind_of(n) for n in rec} - {reg.site_kind_of(n) for n, _ in sites}
    assert extra == NOT_NODES


@pytest.mark.parametrize("kind", [k for k in reg.site_kinds() if k.abs_topk is not None], ids=lambda k: k.kind)
def test_abs_topk_acts_at_the_registry_location(kind):
    assert kind.abs_topk in LOCTYPES_ALL
    model, rec = run(afrac=0.25, afrac_loctypes=kind.abs_topk)
    for name, width in hook_sites(model.cfg):
        nz = (rec[name] != 0).sum(-1)
        if reg.site_kind_of(name) == kind.kind:
            assert int(nz.max()) <= math.floor(0.25 * width), name
        elif reg.site_kind_of(name) in ("attn.act_in", "mlp.act_in", "final_resid", "mlp.post_act"):
            assert int(nz.min()) > math.floor(0.25 * width), name  # dense elsewhere: the location is this site's


def test_every_abs_topk_location_belongs_to_one_site_kind():
    locs = [k.abs_topk for k in reg.site_kinds() if k.abs_topk is not None]
    assert sorted(locs) == sorted(LOCTYPES_ALL)


# How a weight edge's target is computed from its matrix in train/model.py: the input the matrix reads (attn.v's
# channels reach c_proj mixed over positions, as attn.y) and the function after it (before any AbsTopK).
READS = {"attn.v": "attn.y"}
AFTER = {"mlp.post_act": F.gelu}


def test_weight_edges_name_the_matrix_that_connects_their_sites():
    model, rec = run()
    cfg, sd = model.cfg, model.state_dict()
    widths = {reg.site_kind_of(n): w for n, w in hook_sites(cfg)}
    edges = reg.weight_edges()
    assert len(edges) == len(reg.registry()["edgeKinds"]["weight"]) > 0
    for e in edges:
        for layer in range(cfg.n_layer):
            W, b = sd[e.weight.replace("{layer}", str(layer))], sd[e.bias.replace("{layer}", str(layer))]
            assert list(W.shape) == [reg.dimension(d, cfg) for d in e.shape], e
            off, wt = reg.dimension(e.row_offset, cfg), widths[e.target]
            assert W.shape[1] == widths[e.source] and off + wt <= W.shape[0] == b.shape[0], e
            x = rec[f"{layer}.{READS.get(e.source, e.source)}"]
            want = AFTER.get(e.target, lambda t: t)(x @ W[off:off + wt].T + b[off:off + wt])
            assert torch.allclose(rec[f"{layer}.{e.target}"], want, atol=1e-5), (e, layer)


def test_qk_and_residual_edges_join_sites_of_one_channel_space():
    cfg = GPTConfig(**CFG)
    widths = {reg.site_kind_of(n): w for n, w in hook_sites(cfg)}
    kinds = reg.kinds_by_name()
    for src, dst in reg.qk_edges():  # a q-k edge joins channel c of q and of k: the same head, the same slot
        assert widths[src] == widths[dst] and kinds[src].channels == kinds[dst].channels == "head"
    sublayers, final = reg.residual()
    sd = GPT(cfg).state_dict()
    assert kinds[final].scope == "global" and widths[final] == cfg.d_model
    for s in sublayers:
        assert widths[s.read] == widths[s.write] == cfg.d_model
        assert kinds[s.read].channels == kinds[s.write].channels == kinds[final].channels == "residual"
        assert s.norm.replace("{layer}", "0") in sd


def test_snippets_unsigned_kinds_are_the_registrys():
    unsigned = {k.kind for k in reg.site_kinds() if not k.signed}
    assert set(reg.unsigned_kinds()) == unsigned == {"mlp.post_act"}
    for name, _ in hook_sites(GPTConfig(**CFG)):
        assert snippets.has_bottom(name) == (reg.site_kind_of(name) not in unsigned), name
    _, rec = run()
    for name in rec:
        if reg.site_kind_of(name) in unsigned:
            assert float(rec[name].min()) >= -0.17, name  # GELU's minimum: "never, or only barely, negative"


def test_bad_dimension_is_named():
    with pytest.raises(ValueError, match="d_modle"):
        reg.dimension("2*d_modle", GPTConfig(**CFG))
    assert reg.dimension("2*n_head*d_head", GPTConfig(**CFG)) == 16 and reg.dimension("0", {"d_model": 3}) == 0
