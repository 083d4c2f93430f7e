"""How one attention head carries the quote type, measured on the quote task's test prompts (full model, no ablation).

For each prompt of `tasks/single_double_quote.json` it finds the opening quote (the last token before the end whose
text holds the quote character the prompt should close with) and reports, separately for single- and double-quote
prompts: the share of the head's attention from the last position on that token (and how often it is the most
attended), the mean value of each `--at-open` site channel at the opening quote, and of each `--at-last` channel at
the last position; then the unembedding weights of each `--unembed` residual channel on the two target tokens. This
is what README's "How to read a circuit" quotes for the default model's quote circuit:

    python train/quote_readout.py --model public/models/sparse-py-2l-d256 --layer 0 --head 2 \
        --at-open 0.attn.act_in:4,0.attn.act_in:190,0.attn.v:38,0.attn.v:41 \
        --at-last 0.attn.resid_delta:3,0.attn.resid_delta:187 --unembed 3,187
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from model import Hooks  # noqa: E402
from model_folder import load_model_folder, read_model_safetensors  # noqa: E402


class _ScoreHooks(Hooks):
    """Records the site values and one layer's attention scores."""

    def __init__(self, layer: int):
        super().__init__(record={})
        self.layer, self.scores_of_layer = layer, None

    def scores(self, layer, q, k, s):
        if layer == self.layer:
            self.scores_of_layer = s
        return s


def _site(spec: str) -> tuple[str, int]:
    site, channel = spec.rsplit(":", 1)
    return site, int(channel)


def readout(folder: str, layer: int, head: int, at_open: list[str], at_last: list[str]) -> dict:
    """{'single'|'double': {'prompts', 'attention_on_open', 'open_is_most_attended', 'at_open': {site: mean},
    'at_last': {site: mean}}} over the test prompts that have an opening quote."""
    model = load_model_folder(folder).eval()
    task = json.load(open(os.path.join(folder, "tasks", "single_double_quote.json")))
    encoder = json.load(open(os.path.join(folder, "tokenizer", "encoder.json")))
    text_of = {i: t for t, i in encoder.items()}
    d_head = model.cfg.d_head
    rows: dict[str, list[dict]] = {"single": [], "double": []}
    for pair in task["test"]:
        for side in ("a", "b"):
            prompt = pair[side]
            quote = text_of[prompt["correct"]].strip()
            kind = {"'": "single", '"': "double"}.get(quote)
            tokens = prompt["tokens"]
            opens = [i for i in range(len(tokens) - 1) if quote and quote in text_of[tokens[i]]]
            if kind is None or not opens:
                continue
            hooks = _ScoreHooks(layer)
            with torch.no_grad():
                model(torch.tensor([tokens]), hooks=hooks)
            last, o = len(tokens) - 1, opens[-1]
            attention = (hooks.scores_of_layer[0, head, last, : last + 1] / math.sqrt(d_head)).softmax(-1)
            rec = hooks.record
            rows[kind].append({
                "attention_on_open": float(attention[o]),
                "open_is_most_attended": int(attention.argmax()) == o,
                "at_open": {s: float(rec[_site(s)[0]][0, o, _site(s)[1]]) for s in at_open},
                "at_last": {s: float(rec[_site(s)[0]][0, last, _site(s)[1]]) for s in at_last},
            })
    out = {}
    for kind, r in rows.items():
        if not r:
            continue
        out[kind] = {
            "prompts": len(r),
            "attention_on_open": statistics.mean(x["attention_on_open"] for x in r),
            "open_is_most_attended": sum(x["open_is_most_attended"] for x in r) / len(r),
            "at_open": {s: statistics.mean(x["at_open"][s] for x in r) for s in at_open},
            "at_last": {s: statistics.mean(x["at_last"][s] for x in r) for s in at_last},
        }
    return out


def unembedding(folder: str, channels: list[int]) -> dict[int, dict[str, float]]:
    """The final norm's gain and the unembedding weight of each residual channel on the quote task's two targets."""
    state = read_model_safetensors(os.path.join(folder, "model.safetensors"))
    task = json.load(open(os.path.join(folder, "tasks", "single_double_quote.json")))
    encoder = json.load(open(os.path.join(folder, "tokenizer", "encoder.json")))
    head, gain = state["lm_head.weight"], state["transformer.ln_f.weight"]
    return {c: {"norm_gain": float(gain[c]), **{t: float(head[encoder[t], c]) for t in task["target_tokens"]}} for c in channels}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="a model folder with tasks/single_double_quote.json")
    ap.add_argument("--layer", type=int, required=True)
    ap.add_argument("--head", type=int, required=True)
    ap.add_argument("--at-open", default="", help="site:channel list, values at the opening quote")
    ap.add_argument("--at-last", default="", help="site:channel list, values at the last position")
    ap.add_argument("--unembed", default="", help="residual channels whose unembedding weights to print")
    a = ap.parse_args(argv)
    split = lambda s: [x for x in s.split(",") if x]  # noqa: E731
    result = {"readout": readout(a.model, a.layer, a.head, split(a.at_open), split(a.at_last)),
              "unembedding": unembedding(a.model, [int(c) for c in split(a.unembed)])}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
