"""What train/openai_import refuses, and how it says so: code in pickles (which must never run), architecture
options the runtime cannot reproduce, tensors that do not fit, and malformed mean baselines."""
import json
import os

import pytest
import torch

import openai_import as oi
from model import Hooks, hook_sites
from released_fixture import RELEASED, VIZ_DIR, copy_released, released_model
from tokenizer_train import load_tiktoken


# ------------------------------------------------------------------------------------------------ refusals

class Evil:
    """Unpickling this would create MARKER (a stand-in for arbitrary code)."""
    marker = None

    def __reduce__(self):
        return (exec, (f"open({Evil.marker!r}, 'w').write('pwned')",))


@pytest.mark.parametrize("with_float", [False, True])
def test_malicious_pickle_is_refused_and_not_run(tmp_path, with_float):
    Evil.marker = str(tmp_path / "MARKER")
    md = copy_released(tmp_path)
    sd = torch.load(os.path.join(md, "final_model.pt"), weights_only=True)
    payload = {"loss": 0.5, "x": Evil()} if with_float else {"x": Evil()}  # a float reaches the torch<2 fallback
    sd["transformer.h.0.ln_1.weight"] = payload  # nested, as a real attack might
    torch.save(sd, os.path.join(md, "final_model.pt"))
    with pytest.raises(oi.OpenAIImportError) as e:
        oi.import_released(md, "x", str(tmp_path / "out"))
    assert "refused to load the checkpoint" in str(e.value)
    assert "exec" in str(e.value)
    assert not os.path.exists(Evil.marker)
    # the same for a viz file
    bad_viz = str(tmp_path / "viz_data.pt")
    torch.save({"circuit_data": {}, "importances": {"loss": 1.0}, "x": Evil()}, bad_viz)
    with pytest.raises(oi.OpenAIImportError, match="refused to load viz data"):
        oi.safe_torch_load(bad_viz, "viz data")
    assert not os.path.exists(Evil.marker)
    # and plain pickle really would have run it (the test's payload is live)
    torch.load(bad_viz, weights_only=False)
    assert os.path.exists(Evil.marker)


@pytest.mark.parametrize("key,value", [("residual_activation_type", "relu"), ("use_tied_aux_matrix", True),
                                       ("rtopk", True), ("d_pos_emb", 16), ("bigram_table_rank", 8),
                                       ("afrac_approx", True), ("afrac_loctypes", "attn_in,resid_post_mlp")])
def test_unsupported_architecture_option_is_named(tmp_path, key, value):
    md = copy_released(tmp_path)
    beeg = json.load(open(os.path.join(md, "beeg_config.json")))
    beeg[key] = value
    json.dump(beeg, open(os.path.join(md, "beeg_config.json"), "w"))
    with pytest.raises(oi.OpenAIImportError) as e:
        oi.import_released(md, "x", str(tmp_path / "out"))
    assert f"unsupported option {key}=" in str(e.value)
    assert not os.path.exists(tmp_path / "out" / "model.safetensors")


def test_shape_mismatch_names_tensor_and_shapes(tmp_path):
    md = copy_released(tmp_path)
    sd = torch.load(os.path.join(md, "final_model.pt"), weights_only=True)
    sd["transformer.h.1.mlp.c_fc.weight"] = torch.zeros(65, 32)
    torch.save(sd, os.path.join(md, "final_model.pt"))
    with pytest.raises(oi.OpenAIImportError) as e:
        oi.import_released(md, "x", str(tmp_path / "out"))
    msg = str(e.value)
    assert 'tensor "transformer.h.1.mlp.c_fc.weight" has shape [65,32], expected [64,32]' in msg


def test_unexpected_tensor_refused_unless_dropped(tmp_path):
    md = copy_released(tmp_path)
    sd = torch.load(os.path.join(md, "final_model.pt"), weights_only=True)
    sd["transformer.h.0.attn.bias"] = torch.ones(1, 1, 64, 64).tril()  # e.g. a causal-mask buffer
    torch.save(sd, os.path.join(md, "final_model.pt"))
    with pytest.raises(oi.OpenAIImportError, match=r"transformer\.h\.0\.attn\.bias.*--drop-key"):
        oi.import_released(md, "x", str(tmp_path / "out"))
    card = oi.import_released(md, "x", str(tmp_path / "out2"), drop_keys=("transformer.h.0.attn.bias",),
                              golden_prompts=1, golden_max_tokens=8)
    assert "dropped tensor transformer.h.0.attn.bias (--drop-key)" in card["conversion_notes"]


def test_mean_baseline_structure_errors(tmp_path):
    cfg = released_model().cfg
    base = torch.load(os.path.join(VIZ_DIR, "mean_baseline_pretrain.pt"), weights_only=True)
    per_pos = dict(base, **{"1.mlp.post_act": torch.zeros(64, 64)})
    torch.save(per_pos, str(tmp_path / "m.pt"))
    with pytest.raises(oi.OpenAIImportError, match=r'"1\.mlp\.post_act" has shape \[64,64\], expected \[64\].*per-position'):
        oi.means_from_baseline(str(tmp_path / "m.pt"), cfg)
    torch.save({"means": dict(base)}, str(tmp_path / "nested.pt"))  # one level down is accepted
    m, _ = oi.means_from_baseline(str(tmp_path / "nested.pt"), cfg)
    assert torch.equal(m["final_resid"], base["final_resid"])
    del base["0.attn.v"]
    torch.save(base, str(tmp_path / "missing.pt"))
    with pytest.raises(oi.OpenAIImportError, match=r"no mean for site\(s\) 0\.attn\.v"):
        oi.means_from_baseline(str(tmp_path / "missing.pt"), cfg)


def test_means_from_a_corpus_folder(tmp_path):
    model = released_model()
    enc = load_tiktoken(os.path.join(RELEASED, "tinypython"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = "for i in range(10):\n    print(i, 'x')\n"
    (corpus / "a.py").write_text(text)
    ids = enc.encode_ordinary(text) + [enc.eot_token]
    T = len(ids) - 1  # exactly one window: ids[:T]
    means, info = oi.means_from_corpus(model, enc, str(corpus), n_windows=8, window=T)
    assert info["windows"] == 1 and info["window_tokens"] == T and model.cfg.block_size == 64
    rec = {}
    with torch.no_grad():
        model(torch.tensor([ids[:T]]), hooks=Hooks(rec))
    for site, _ in hook_sites(model.cfg):
        assert torch.allclose(means[site], rec[site][0].double().mean(0).float(), atol=1e-6), site
