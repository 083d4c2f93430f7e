"""beeg_config.json -> our GPTConfig, judged key by key against OpenAI's own loader.

OpenAI's circuit_sparsity (inference/gpt.py, load_model at commit 8a029a3) renames n_mlp, pops use_tied_aux_matrix
(asserting it is false), defaults sink to false, and then calls GPTConfig(**config): since commit f7ab47c removed
the shim that popped stale training keys, any key that is not a GPTConfig field makes OpenAI's own loader fail. Some
released configs (csp_bridges2's) still carry such keys. Each is reported here by name, with whether it changes the
forward pass; a key nobody knows stops the import (it might change the forward pass) unless --ignore-config-key
names it. Options the runtime cannot reproduce are refused.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Dict, List, Tuple

from model import LOCTYPES_ALL, GPTConfig

from .common import OpenAIImportError

# GPTConfig's fields in OpenAI's inference/gpt.py (8a029a3): what its load_model accepts.
OPENAI_FIELDS = {
    "block_size", "vocab_size", "n_layer", "n_head", "d_head", "d_model", "dropout", "bias", "ln_bias", "rms_norm",
    "residual_activation_type", "activation_type", "afrac", "afrac_loctypes", "debug_nans", "tied_unembed",
    "tokenizer_name", "grad_checkpointing", "d_mlp", "enable_bigram_table", "learnable_bigram_table", "d_pos_emb",
    "dropout_cat_pos_emb", "sinusoidal_cat_pos_emb", "enable_sparse_kernels", "flash", "sink",
}
# Handled by load_model before GPTConfig(**config).
OPENAI_PREPROCESSED = {"n_mlp": "renamed to d_mlp", "use_tied_aux_matrix": "popped, asserted false"}

# Released keys that are not part of our config, and why they do not change the inference forward pass (with the
# values convert_config accepts; other values are refused below).
NO_FORWARD_EFFECT = {
    "dropout": "dropout is off at inference",
    "debug_nans": "NaN assertions only",
    "grad_checkpointing": "recomputation during training (load_model overrides it)",
    "enable_sparse_kernels": "a kernel choice",
    "flash": "the attention kernel (load_model overrides it; the sink is applied as on the flash path)",
    "learnable_bigram_table": "parameter or buffer: the table's values come from the checkpoint either way",
    "pfrac": "the training-time weight density; the checkpoint's zeros already encode it",
    "expansion_factor": "a training-time size multiplier; the sizes are d_model/d_mlp and the tensor shapes",
    "expansion_factor_mlp": "a training-time size multiplier; the sizes are d_model/d_mlp and the tensor shapes",
    "ignore_dw_grad": "a gradient option",
    "sparse_matmul_impl": "a training kernel choice",
    "debug_exact_topk": "the training-time top-k implementation; inference here is exact",
    "n_embd": "an alias of d_model (refused when it differs)",
    "afrac_approx": "false: exact AbsTopK (refused when true)",
    "rtopk": "false: AbsTopK (refused when true)",
    "bigram_table_rank": "null: a dense bigram table (refused when set)",
    "use_tied_aux_matrix": "false: no auxiliary matrix (refused when true)",
    "d_pos_emb": "null: positions added through wpe (refused when set)",
    "dropout_cat_pos_emb": "false: no concatenated positions (refused when true)",
    "sinusoidal_cat_pos_emb": "false: no sinusoidal positions (refused when true)",
}
OUR_KEYS = {f.name for f in dataclasses.fields(GPTConfig)} | {"n_mlp"}
REQUIRED_KEYS = ("block_size", "vocab_size", "n_layer", "n_head", "d_model")
# Where OpenAI's GPTConfig default differs from ours, a missing key takes OpenAI's (that is the released model).
OPENAI_DEFAULTS = {"rms_norm": False, "tied_unembed": True}


# Options whose forward pass the runtime does not implement: refused when set (true, or not null), with why.
REFUSED_WHEN_SET = {
    "use_tied_aux_matrix": "tied auxiliary matrices are not part of the runtime's forward pass",
    "rtopk": "the runtime implements only AbsTopK (keep the k largest |x|)",
    "d_pos_emb": "concatenated positional embeddings are not supported (only wte + wpe)",
    "dropout_cat_pos_emb": "concatenated positional embeddings are not supported",
    "sinusoidal_cat_pos_emb": "sinusoidal positional embeddings are not supported",
    "bigram_table_rank": "a low-rank bigram table is not supported (only a dense V x V table)",
    "afrac_approx": "approximate top-k would differ from the runtime's exact AbsTopK",
}


def _refusals(beeg: dict, refuse) -> None:
    """Options whose value the runtime's forward pass cannot reproduce."""
    if beeg.get("residual_activation_type", "identity") != "identity":
        refuse("residual_activation_type", "the runtime supports only 'identity' (no activation on the residual)")
    for key, why in REFUSED_WHEN_SET.items():
        if beeg.get(key) is not None and beeg.get(key) is not False:
            refuse(key, why)
    if beeg.get("activation_type", "gelu") not in ("gelu", "relu"):
        refuse("activation_type", "the runtime supports 'gelu' (exact erf) and 'relu'")
    if beeg.get("n_embd") is not None and beeg.get("n_embd") != beeg.get("d_model"):
        refuse("n_embd", f"differs from d_model={beeg.get('d_model')}")
    afrac = beeg.get("afrac")
    if afrac is not None and not (isinstance(afrac, (int, float)) and 0 < afrac <= 1):
        refuse("afrac", "must be null or in (0, 1]")
    loctypes = str(beeg.get("afrac_loctypes", "attn_in,attn_out,mlp_in,mlp_out"))
    locs = [s.strip() for s in loctypes.split(",") if s.strip()]
    bad = [s for s in locs if s not in LOCTYPES_ALL]
    if bad and afrac is not None and afrac < 1:
        refuse("afrac_loctypes", f"unknown AbsTopK location(s) {', '.join(bad)} (supported: {', '.join(LOCTYPES_ALL)})")


def key_report(beeg: dict, src: str, ignore_keys=()) -> List[str]:
    """One note per released key OpenAI's loader rejects, saying whether it changes the forward pass; refuses a
    key that is unknown (nobody can say) unless ignore_keys names it."""
    notes, unknown = [], []
    for k in sorted(beeg):
        if k in OPENAI_FIELDS or k in OPENAI_PREPROCESSED:
            continue  # OpenAI's loader takes it; ours either uses it (OUR_KEYS) or it is in NO_FORWARD_EFFECT
        v = json.dumps(beeg[k])
        if k in NO_FORWARD_EFFECT:
            notes.append(f"config key {k}={v}: OpenAI's load_model rejects it (not a GPTConfig field); does not "
                         f"change the forward pass ({NO_FORWARD_EFFECT[k]}); ignored")
        elif k in ignore_keys:
            notes.append(f"config key {k}={v}: unknown, and OpenAI's load_model rejects it (not a GPTConfig field); "
                         f"whether it changes the forward pass is not known; ignored (--ignore-config-key)")
        else:
            unknown.append(f"{k}={v}")
    if unknown:
        raise OpenAIImportError(
            f"{src}: unknown config key(s) {', '.join(unknown)}: OpenAI's own load_model rejects them (GPTConfig has "
            f"no such field) and whether they change the forward pass is not known, so the import stops; pass "
            f"--ignore-config-key NAME for each one known not to change it")
    return notes


def convert_config(beeg: dict, src: str = "beeg_config.json", ignore_keys=()) -> Tuple[GPTConfig, List[str]]:
    """Released beeg_config.json -> (our GPTConfig, notes). Refuses options the runtime cannot reproduce."""
    if not isinstance(beeg, dict):
        raise OpenAIImportError(f"{src}: expected a JSON object, got {type(beeg).__name__}")
    missing = [k for k in REQUIRED_KEYS if beeg.get(k) is None]
    if missing:
        raise OpenAIImportError(f"{src}: missing required key(s): {', '.join(missing)}")

    def refuse(key, why):
        raise OpenAIImportError(f"{src}: unsupported option {key}={json.dumps(beeg.get(key))}: {why}")
    _refusals(beeg, refuse)
    notes = key_report(beeg, src, ignore_keys)
    if beeg.get("sink") and beeg.get("flash") is False:
        notes.append("flash=false with sink=true: the released non-flash path ignores the sink; the sink is applied "
                     "here as in the flash path the release asserts for sink models")
    if beeg.get("debug_exact_topk") is False:
        notes.append("debug_exact_topk=false: training may have used an approximate top-k; inference here is exact")
    d: Dict = {k: v for k, v in beeg.items() if k in OUR_KEYS}
    if d.get("d_mlp") is None and d.get("n_mlp") is not None:
        d["d_mlp"] = d.pop("n_mlp")
        notes.append("n_mlp renamed to d_mlp")
    d.pop("n_mlp", None)
    if d.get("d_mlp") is None:
        d["d_mlp"] = 4 * int(beeg["d_model"])
        notes.append(f"d_mlp missing: OpenAI's default 4 * d_model = {d['d_mlp']}")
    if d.get("d_head") is None:
        d["d_head"] = int(beeg["d_model"]) // int(beeg["n_head"])
        notes.append(f"d_head missing: OpenAI's default d_model // n_head = {d['d_head']}")
    if "sink" not in beeg:
        d["sink"] = False
        notes.append("sink missing: defaulted to false")
    for k, v in OPENAI_DEFAULTS.items():
        if k not in beeg:
            d[k] = v
            notes.append(f"{k} missing: OpenAI's GPTConfig default {json.dumps(v)}")
    if d.get("tokenizer_name") is None:
        d.pop("tokenizer_name", None)
    cfg = GPTConfig.from_dict(d)
    if beeg.get("afrac") is None or beeg["afrac"] >= 1:
        cfg = dataclasses.replace(cfg, afrac=None)
    return cfg, notes
