"""quote_readout.py on the shipped sparse-py-2l: the quote-type signal README describes for its layer-0 head 0 is
what the tool measures (single-quote openers light residual channel 102 and value channel 8; double-quote ones leave
both at exactly 0, which AbsTopK makes possible), and channel 13 favours `'` in the unembedding."""
import os

from conftest import TRAIN
from quote_readout import readout, unembedding

FOLDER = os.path.join(os.path.dirname(TRAIN), "public", "models", "sparse-py-2l")


def test_the_quote_type_signal_of_sparse_py_2l():
    r = readout(FOLDER, 0, 0, ["0.attn.act_in:102", "0.attn.v:8"], ["0.attn.resid_delta:13"])
    single, double = r["single"], r["double"]
    assert single["prompts"] + double["prompts"] == 200  # every test prompt has its opening quote
    assert single["at_open"]["0.attn.act_in:102"] > 5 and double["at_open"]["0.attn.act_in:102"] == 0.0
    assert single["at_open"]["0.attn.v:8"] > 1 and double["at_open"]["0.attn.v:8"] == 0.0
    assert single["at_last"]["0.attn.resid_delta:13"] > 1.5 * double["at_last"]["0.attn.resid_delta:13"]
    for side in (single, double):
        assert 0.5 < side["attention_on_open"] < 1 and 0.5 < side["open_is_most_attended"] <= 1
    w = unembedding(FOLDER, [13])[13]
    assert w["'"] > 2 * w['"'] > 0
