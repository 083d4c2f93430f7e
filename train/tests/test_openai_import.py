"""train/openai_import (the package) on the release-shaped fixture: the conversion round trip, the committed
converted folder, the viz import and the command line. Refusals: test_openai_import_refusals.py; the findings of
the run against OpenAI's own code: test_openai_import_hardening.py."""
import json
import math
import os
import shutil
import subprocess

import pytest
import torch
from safetensors import safe_open

import model_folder as mf
import openai_fixtures as of
import openai_import as oi
from model import Hooks, hook_sites
from released_fixture import FIX, MODEL_DIR, RELEASED, ROOT, TASKS, VIZ_DIR, copy_released, released_model, viz_path
from tokenizer_train import load_tiktoken


# ------------------------------------------------------------------------------------------------ round trip

def test_round_trip_matches_the_released_model(converted):
    out, card = converted
    ref = released_model()
    back = mf.load_model_folder(out)
    enc = load_tiktoken(os.path.join(out, "tokenizer"))
    x = torch.tensor([enc.encode_ordinary("def f(x):\n    return [x, 'a', \"b\"]\n")[:64]])
    with torch.no_grad():
        want, rec_w = ref.run_with_hooks(x)
        got, rec_g = back.run_with_hooks(x)
    assert torch.allclose(got, want, atol=1e-6, rtol=0)
    assert float(want.abs().max()) > 0.1  # a model that does something
    for site, _ in hook_sites(ref.cfg):
        assert torch.allclose(rec_g[site], rec_w[site], atol=1e-6, rtol=0), site

    cfg = json.load(open(os.path.join(out, "config.json")))
    assert cfg["d_mlp"] == 64 and cfg["sink"] is True and cfg["enable_bigram_table"] is True
    assert len(cfg["afrac_loctypes"].split(",")) == 8
    assert "expansion_factor" not in cfg and "flash" not in cfg  # released-only keys are not carried over
    with safe_open(os.path.join(out, "model.safetensors"), framework="pt") as f:
        meta = f.metadata()
        assert json.loads(meta["sparse:transformer.h.0.mlp.c_fc.weight"]) == [64, 32]
        assert "bigram_table" in f.keys()  # dense stays plain
        assert "transformer.h.1.attn.attn_imp.sink_logit" in f.keys()
    for fn in ("encoder.json", "vocab.bpe"):
        assert open(os.path.join(out, "tokenizer", fn), "rb").read() == \
            open(os.path.join(RELEASED, "tinypython", fn), "rb").read()
    assert card["source"]["final_model_sha256"] == mf.sha256_file(os.path.join(MODEL_DIR, "final_model.pt"))
    assert card["kind"] == "sparse"
    assert abs(card["weight_l0_fraction"] - of.SMALL_DENSITY) < 0.01
    assert card["nonzero_params"] < card["total_params"]
    assert "final_logits_bias missing: zeros" in card["conversion_notes"]
    # golden.safetensors: the model's own logits and sites for its prompts
    with safe_open(os.path.join(out, "golden.safetensors"), framework="pt") as f:
        toks = f.get_tensor("p1.tokens").long()[None]
        lg, rec = ref.run_with_hooks(toks)
        assert torch.allclose(f.get_tensor("p1.logits"), lg[0], atol=1e-6)
        assert torch.allclose(f.get_tensor("p1.1.attn.q"), rec["1.attn.q"][0], atol=1e-6)
    # means: the released mean baseline, imported as is
    base = torch.load(os.path.join(VIZ_DIR, "mean_baseline_pretrain.pt"), weights_only=True)
    with safe_open(os.path.join(out, "means.safetensors"), framework="pt") as f:
        for site, w in hook_sites(ref.cfg):
            assert torch.equal(f.get_tensor(site), base[site]), site


def _json_close(a, b, path=""):
    if isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6), f"{path}: {a} vs {b}"
    elif isinstance(a, dict):
        assert set(a) == set(b), f"{path}: keys {sorted(set(a) ^ set(b))}"
        for k in a:
            _json_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            _json_close(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


def test_committed_converted_fixture_is_current(converted):
    """test-fixtures/openai-small/converted (read by the Vitest test) is what the importer makes today."""
    out, _ = converted
    committed = os.path.join(FIX, "converted")
    files = sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs)
    assert files == sorted(os.path.relpath(os.path.join(d, f), committed) for d, _, fs in os.walk(committed) for f in fs)
    for rel in files:
        a, b = os.path.join(out, rel), os.path.join(committed, rel)
        if rel.endswith(".json") or rel.endswith(".bpe"):
            if rel.endswith(".json"):
                _json_close(json.load(open(a, encoding="utf-8")), json.load(open(b, encoding="utf-8")), rel)
            else:
                assert open(a, "rb").read() == open(b, "rb").read(), rel
        else:
            with safe_open(a, framework="pt") as fa, safe_open(b, framework="pt") as fb:
                assert fa.metadata() == fb.metadata(), rel
                assert sorted(fa.keys()) == sorted(fb.keys()), rel
                for k in fa.keys():
                    ta, tb = fa.get_tensor(k), fb.get_tensor(k)
                    if rel == "golden.safetensors":
                        assert torch.allclose(ta.float(), tb.float(), atol=1e-5), f"{rel} {k}"
                    else:
                        assert torch.equal(ta, tb), f"{rel} {k}"


def test_nonzero_final_logits_bias_and_n_mlp_alias(tmp_path):
    md = copy_released(tmp_path)
    sd = torch.load(os.path.join(md, "final_model.pt"), weights_only=True)
    sd["final_logits_bias"] = torch.linspace(-1, 1, of.SMALL_VOCAB)
    for k in [k for k in sd if k.endswith("sink_logit")]:
        del sd[k]
    torch.save(sd, os.path.join(md, "final_model.pt"))
    beeg = json.load(open(os.path.join(md, "beeg_config.json")))
    beeg["n_mlp"] = beeg.pop("d_mlp")
    del beeg["sink"]
    beeg["some_future_flag"] = 3
    json.dump(beeg, open(os.path.join(md, "beeg_config.json"), "w"))
    out = str(tmp_path / "out")
    card = oi.import_released(md, "x", out, golden_prompts=1, golden_max_tokens=8,
                              ignore_config_keys=("some_future_flag",))
    cfg = json.load(open(os.path.join(out, "config.json")))
    assert cfg["d_mlp"] == 64 and cfg["sink"] is False and "n_mlp" not in cfg
    assert "sink missing: defaulted to false" in card["conversion_notes"]
    assert any(n.startswith("config key some_future_flag=3: unknown") for n in card["conversion_notes"])
    back = mf.load_model_folder(out)
    assert torch.equal(back.final_logits_bias, sd["final_logits_bias"])


# ------------------------------------------------------------------------------------------------ viz data

def _load_json(p):
    with open(p, encoding="utf-8") as fh:
        return json.load(fh)


@torch.no_grad()
def _torch_task_loss(model, prompts, kept, means):
    """Per-prompt loss under 'keep these nodes, mean-ablate the rest', written here from the files alone."""
    iv = {}
    for site, w in hook_sites(model.cfg):
        m = torch.zeros(w)
        for c in kept.get(site, []):
            m[c] = 1
        iv[site] = (lambda m, mu: (lambda x: torch.where(m.bool(), x, mu.expand_as(x))))(m, means[site])
    tot = 0.0
    for p in prompts:
        lg = model(torch.tensor([p["tokens"]]), hooks=Hooks(None, iv))[0, -1].double()
        tot += float(torch.nn.functional.softplus(-(lg[p["correct"]] - lg[p["alternative"]])))
    return tot / len(prompts)


def test_viz_import_reproduces_the_stored_interv_loss(converted):
    out, card = converted
    model = mf.load_model_folder(out)
    with safe_open(os.path.join(out, "means.safetensors"), framework="pt") as f:
        means = {k: f.get_tensor(k) for k in f.keys()}
    assert _load_json(os.path.join(out, "tasks", "index.json")) == {"tasks": list(TASKS)}
    enc = load_tiktoken(os.path.join(out, "tokenizer"))
    for task in TASKS:
        viz = oi.safe_torch_load(viz_path(task), "viz data")
        imp = viz["importances"]
        tf = _load_json(os.path.join(out, "tasks", f"{task}.json"))
        cf = _load_json(os.path.join(out, "circuits", f"{task}.json"))
        # nodes: exactly circuit_data, as our node ids
        want = sorted(f"{loc}:{int(c)}" for loc, v in viz["circuit_data"].items() if torch.is_tensor(v) for c in v)
        assert sorted(f"{n['site']}:{n['channel']}" for n in cf["nodes"]) == want
        assert cf["k"] == len(want) and cf["ablation"] == "mean"
        kept = {}
        for n in cf["nodes"]:
            kept.setdefault(n["site"], []).append(n["channel"])
        prompts = [p for pair in tf["test"] for p in (pair["a"], pair["b"])]
        assert len(prompts) == imp["task_samples"][0].shape[0]
        # the stored x2 losses, reproduced from the imported files by torch
        circ = _torch_task_loss(model, prompts, kept, means)
        full = _torch_task_loss(model, prompts, {s: list(range(w)) for s, w in hook_sites(model.cfg)}, means)
        assert math.isclose(2 * circ, imp["interv_loss"], rel_tol=1e-6), (task, 2 * circ, imp["interv_loss"])
        assert math.isclose(2 * full, imp["loss"], rel_tol=1e-6)
        assert math.isclose(cf["circuit_loss"], circ, rel_tol=1e-6)
        assert math.isclose(cf["prune_config"]["released"]["interv_loss"], imp["interv_loss"] / 2)
        # node scores: the stored per-node ablation losses, aligned with circuit_data's (unsorted) order
        scored = [n for n in cf["nodes"] if abs(n["score"]) > 1e-4]
        assert scored, "fixture has no node that matters"
        for n in scored:
            less = {s: [c for c in cs if (s, c) != (n["site"], n["channel"])] for s, cs in kept.items()}
            assert math.isclose(_torch_task_loss(model, prompts, less, means) - circ, n["score"], abs_tol=1e-6), n
        # edges follow docs/circuits.md: every weight edge is a nonzero entry between kept nodes
        sd = model.state_dict()
        for e in cf["edges"]:
            assert e["source"].rsplit(":", 1)[0] in kept and e["target"].rsplit(":", 1)[0] in kept
        assert cf["edge_count"] == len(cf["edges"]) == sum(cf["edge_counts"].values())
        assert cf["edge_counts"]["weight"] > 0 and cf["edge_counts"]["residual"] > 0 and cf["edge_counts"]["qk"] > 0
        w0 = next(e for e in cf["edges"] if e["kind"] == "weight" and e["target"].startswith("0.mlp.post_act"))
        j, i = int(w0["target"].split(":")[1]), int(w0["source"].split(":")[1])
        assert w0["weight"] == float(sd["transformer.h.0.mlp.c_fc.weight"][j, i]) != 0
        assert cf["prune_config"]["checks"]["task_sample_acts_max_abs_diff"] < 1e-5
        assert cf["total_nodes"] == viz["num_total_nodes"]
        assert cf["pruning_curve"][-1][1] == pytest.approx(imp["interv_loss"] / 2)
    # how the samples were read: quote rows are prompts (class 1 = '"'), while rows end with their target
    q = _load_json(os.path.join(out, "tasks", "single_double_quote.json"))
    assert q["provenance"]["sample_reading"] == "prompt/class1=first-target"
    assert q["train"][0]["a"]["correct"] == enc.encode_ordinary('"')[0] and q["target_tokens"] == ['"', "'"]
    w = _load_json(os.path.join(out, "tasks", "while_return_true_beeg.json"))
    assert w["provenance"]["sample_reading"] == "with-target"
    assert w["target_tokens"] == [":", "\n"]


def test_viz_needs_targets_for_an_unknown_task(tmp_path):
    model, enc = released_model(), load_tiktoken(os.path.join(RELEASED, "tinypython"))
    means = torch.load(os.path.join(VIZ_DIR, "mean_baseline_pretrain.pt"), weights_only=True)
    with pytest.raises(oi.OpenAIImportError, match="--targets"):
        oi.import_viz(model, enc, means, viz_path("single_double_quote"), "mystery_task", "m", str(tmp_path),
                      layout="prompt")
    s = oi.import_viz(model, enc, means, viz_path("single_double_quote"), "mystery_task", "m", str(tmp_path),
                      targets_spec=["'", '"'])  # orientation is still found from the stored loss
    assert s["sample_reading"] == "prompt/class1=second-target"
    assert s["circuit_loss_vs_stored_interv_loss_rel"] < 1e-6


def test_imported_files_are_schema_valid(converted):
    out, _ = converted
    npx = shutil.which("npx")
    if npx is None or not os.path.isdir(os.path.join(ROOT, "node_modules", "zod")):
        pytest.skip("node/npx or node_modules missing: the zod schemas cannot be run")
    code = ("import { taskFileSchema } from './src/tasks/taskSchema.ts';"
            "import { circuitFileSchema } from './src/circuit/circuitSchema.ts';"
            "import { readFileSync } from 'node:fs';"
            "const [dir, ...tasks] = JSON.parse(process.env.OPENAI_IMPORT_CHECK);"
            "for (const t of tasks) {"
            "  const tf = taskFileSchema.parse(JSON.parse(readFileSync(dir + '/tasks/' + t + '.json', 'utf8')));"
            "  const cf = circuitFileSchema.parse(JSON.parse(readFileSync(dir + '/circuits/' + t + '.json', 'utf8')));"
            "  if (tf.task !== t || cf.task !== t) throw new Error('task name');"
            "}"
            "console.log('schema-valid');")
    r = subprocess.run([npx, "tsx", "-e", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, OPENAI_IMPORT_CHECK=json.dumps([out, *TASKS])))
    assert r.returncode == 0 and "schema-valid" in r.stdout, r.stderr[-2000:]


def test_cli_writes_into_models_root_and_index(tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    (root / "index.json").write_text(json.dumps({"models": [{"id": "other", "name": "O", "kind": "dense", "default": True}]}))
    rc = oi.main([MODEL_DIR, "--id", "tiny", "--out-root", str(root), "--golden-prompts", "1", "--golden-max-tokens", "8"])
    assert rc == 0
    idx = json.load(open(root / "index.json"))
    assert [m["id"] for m in idx["models"]] == ["other", "tiny"] and idx["models"][1]["kind"] == "sparse"
    assert (root / "tiny" / "model.safetensors").exists()
    assert not (root / "tiny" / "means.safetensors").exists()  # no means source given
    # a second run refuses to overwrite without --force; errors exit 2 with the message on stderr
    assert oi.main([MODEL_DIR, "--id", "tiny", "--out-root", str(root)]) == 2
