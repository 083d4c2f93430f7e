"""Residual-edge path patching and q·k-edge score edits in the PyTorch model (train/edge_ablation.py): the invariants
that hold by definition, the registry's edge kinds, and the golden entries the runtime's tests replay."""
import json

import pytest
import torch

import edge_ablation as ea
from model import GPT, LOCTYPES_ALL, GPTConfig, Hooks, hook_sites
from reference_runs import EDGE_GOLDEN_POSITIONS, edge_golden

CFG = GPTConfig(n_layer=2, d_model=32, d_mlp=64, n_head=2, d_head=8, block_size=16, vocab_size=64, afrac=0.5,
                afrac_loctypes=",".join(LOCTYPES_ALL), sink=True, enable_bigram_table=True)


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = GPT(CFG).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.3)
            elif name.endswith(".bias"):
                p.normal_(0.0, 0.1)
    rec = {}
    model(torch.randint(0, 64, (4, 16)), hooks=Hooks(rec))  # means from other text than the prompt below
    means = {name: rec[name].mean(dim=(0, 1)) for name, _ in hook_sites(CFG)}
    x = torch.randint(0, 64, (1, 12))
    return model, means, x


def run(model, means, x, ivs):
    rec = {}
    with torch.no_grad():
        logits = model(x, hooks=ea.EdgeAblationHooks(CFG, means, ivs, rec))
    return logits, rec


def live_channel(model, means, x, site):
    _, rec = run(model, means, x, [])
    return int((rec[site][0] - means[site]).abs().sum(0).argmax())


def res(writer, reader, ch, mode):
    return {"kind": "edge", "source": f"{writer}:{ch}", "target": f"{reader}:{ch}", "mode": mode}


def test_no_interventions_is_the_plain_model(setup):
    model, means, x = setup
    with torch.no_grad():
        assert torch.equal(run(model, means, x, [])[0], model(x))


@pytest.mark.parametrize("mode", ["mean", "zero"])
def test_every_residual_edge_out_of_a_writer_equals_the_writer_node(setup, mode):
    model, means, x = setup
    for writer, readers in (("0.attn.resid_delta", ["0.mlp.act_in", "1.attn.act_in", "1.mlp.act_in", "final_resid"]),
                            ("0.mlp.resid_delta", ["1.attn.act_in", "1.mlp.act_in", "final_resid"])):
        ch = live_channel(model, means, x, writer)
        via_edges, _ = run(model, means, x, [res(writer, r, ch, mode) for r in readers])
        via_node, _ = run(model, means, x, [{"kind": "node", "node": f"{writer}:{ch}", "mode": mode}])
        plain, _ = run(model, means, x, [])
        assert (via_node - plain).abs().max() > 1e-3
        assert torch.allclose(via_edges, via_node, atol=1e-5), (writer, (via_edges - via_node).abs().max())
        # Leaving out one reader leaves a difference: each edge carries its own part.
        partial, _ = run(model, means, x, [res(writer, r, ch, mode) for r in readers[1:]])
        assert (partial - via_node).abs().max() > 1e-4


def test_only_the_reader_sees_the_patch(setup):
    model, means, x = setup
    ch = live_channel(model, means, x, "0.attn.resid_delta")
    _, plain = run(model, means, x, [])
    _, got = run(model, means, x, [res("0.attn.resid_delta", "1.mlp.act_in", ch, "zero")])
    for site in ("0.attn.resid_delta", "0.mlp.act_in", "0.mlp.resid_delta", "1.attn.act_in", "1.attn.resid_delta"):
        assert torch.equal(got[site], plain[site]), site
    assert (got["1.mlp.act_in"] - plain["1.mlp.act_in"]).abs().max() > 1e-3


def test_a_residual_edge_from_a_writer_already_at_its_mean_changes_nothing(setup):
    model, means, x = setup
    ch = live_channel(model, means, x, "0.mlp.resid_delta")
    node = {"kind": "node", "node": f"0.mlp.resid_delta:{ch}", "mode": "mean"}
    base, _ = run(model, means, x, [node])
    for reader in ("1.attn.act_in", "1.mlp.act_in", "final_resid"):
        assert torch.equal(run(model, means, x, [node, res("0.mlp.resid_delta", reader, ch, "mean")])[0], base), reader


@pytest.mark.parametrize("mode", ["mean", "zero"])
def test_a_qk_edge_equals_ablating_its_k_node(setup, mode):
    model, means, x = setup
    for layer in (0, 1):
        ch = live_channel(model, means, x, f"{layer}.attn.k")
        edge, rec = run(model, means, x, [{"kind": "edge", "source": f"{layer}.attn.q:{ch}", "target": f"{layer}.attn.k:{ch}", "mode": mode}])
        node, _ = run(model, means, x, [{"kind": "node", "node": f"{layer}.attn.k:{ch}", "mode": mode}])
        assert (node - run(model, means, x, [])[0]).abs().max() > 1e-3
        assert torch.allclose(edge, node, atol=1e-5), (edge - node).abs().max()
        # The edge edits the score, not the k site: k is recorded as computed.
        assert torch.equal(rec[f"{layer}.attn.k"], run(model, means, x, [])[1][f"{layer}.attn.k"])


def test_edge_kinds_as_the_registry_says():
    assert ea.edge_kind(CFG, "0.attn.act_in:3", "0.attn.k:5") == "weight"
    assert ea.edge_kind(CFG, "0.attn.resid_delta:3", "0.mlp.act_in:3") == "residual"
    assert ea.edge_kind(CFG, "0.mlp.resid_delta:3", "final_resid:3") == "residual"
    assert ea.edge_kind(CFG, "1.attn.q:9", "1.attn.k:9") == "qk"
    for source, target, why in (("0.mlp.resid_delta:3", "0.mlp.act_in:3", "later read"),
                                ("0.attn.resid_delta:3", "1.attn.act_in:4", "same channel"),
                                ("0.attn.q:9", "1.attn.k:9", "q·k"),
                                ("0.attn.q:1", "0.attn.v:1", "no edge kind"),
                                ("0.attn.resid_delta:32", "1.attn.act_in:32", "not a node")):
        with pytest.raises(ValueError, match=why):
            ea.edge_kind(CFG, source, target)
    with pytest.raises(ValueError, match="weight edge"):
        ea.EdgeAblationHooks(CFG, {}, [{"kind": "edge", "source": "0.attn.act_in:3", "target": "0.attn.k:5", "mode": "zero"}])


def test_edge_golden_entries_move_the_logits(setup):
    model, means, x = setup
    ids = x[0].tolist()
    tensors, meta = edge_golden(model, means, ids)
    json.dumps(meta)
    assert meta["positions"] == list(range(len(ids) - EDGE_GOLDEN_POSITIONS, len(ids)))
    assert len(meta["lists"]) == 7
    with torch.no_grad():
        plain = model(x)[0, meta["positions"]]
    for i, ivs in enumerate(meta["lists"]):
        assert tensors[f"e{i}.logits"].shape == (EDGE_GOLDEN_POSITIONS, CFG.vocab_size)
        assert (tensors[f"e{i}.logits"] - plain).abs().max() > 1e-4, ivs
        readers = {iv["target"].rsplit(":", 1)[0] for iv in ivs if iv["kind"] == "edge" and "resid" in iv["source"]}
        assert {k for k in tensors if k.startswith(f"e{i}.") and k != f"e{i}.logits"} == {f"e{i}.{r}" for r in readers}
