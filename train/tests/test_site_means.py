"""The golden that the runtime's per-channel means (src/model/siteMeans.ts) are checked against: compute_means
(train/reference_runs.py) on the converted OpenAI-shaped fixture model for fixed token arrays, windows shortened as
means_from_corpus shortens them. The test recomputes it and compares with the committed file, so the file cannot drift
from compute_means; `python train/tests/test_site_means.py` rewrites it.

test-fixtures/site-means/golden.safetensors holds, per case, `<case>/tokens` (I32) and `<case>/<site>` (F32 means);
its metadata `cases` gives each case's asked windows and window tokens and the batch compute_means ran with.
Case "corpus" is the fixture's MEANS_CORPUS (each text's tokens then <|endoftext|>, as _load_corpus_tokens reads
files), whose texts are also written as corpus/<i>.py for the page's test: with 16 windows of 64 tokens it is the
computation that made the fixture's mean_baseline_pretrain.pt. Case "short" is seeded random tokens, 7 windows of 24
tokens (shorter than block_size 64, stride 18), in batches of 3."""
import json
import os
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import openai_fixtures as of  # noqa: E402
from model import hook_sites  # noqa: E402
from model_folder import load_model_folder  # noqa: E402
from openai_import.tokenizer_means import _window_tokens  # noqa: E402
from reference_runs import compute_means  # noqa: E402
from tokenizer_train import load_tiktoken  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
FIX = os.path.join(ROOT, "test-fixtures", "openai-small")
OUT = os.path.join(ROOT, "test-fixtures", "site-means")
GOLDEN = os.path.join(OUT, "golden.safetensors")


def corpus_tokens():
    enc = load_tiktoken(os.path.join(FIX, "converted", "tokenizer"))
    ids = []
    for text in of.MEANS_CORPUS:
        ids += enc.encode_ordinary(text) + [enc.eot_token]
    return np.asarray(ids, dtype=np.int64)


def cases(model):
    short = np.random.default_rng(0).integers(0, model.cfg.vocab_size, size=150).astype(np.int64)
    return {"corpus": (corpus_tokens(), 16, 64, 16), "short": (short, 7, 24, 3)}


def golden_tensors():
    """(tensors, metadata) of the golden file, computed now."""
    model = load_model_folder(os.path.join(FIX, "converted")).eval()
    tensors, meta = {}, {}
    for name, (tokens, windows, window_tokens, batch) in cases(model).items():
        T = min(window_tokens, model.cfg.block_size)
        n = min(windows, len(tokens) - T)  # means_from_corpus's window count
        with torch.no_grad(), _window_tokens(model, T):
            means = compute_means(model, tokens, n_windows=n, batch=batch)
        tensors[f"{name}/tokens"] = torch.from_numpy(tokens.astype(np.int32))
        for site, _ in hook_sites(model.cfg):
            tensors[f"{name}/{site}"] = means[site]
        meta[name] = {"windows": windows, "window_tokens": window_tokens, "batch": batch}
    return tensors, {"cases": json.dumps(meta), "written_by": "python train/tests/test_site_means.py"}


def write():
    tensors, meta = golden_tensors()
    os.makedirs(os.path.join(OUT, "corpus"), exist_ok=True)
    save_file(tensors, GOLDEN, metadata=meta)
    os.chmod(GOLDEN, 0o644)
    for i, text in enumerate(of.MEANS_CORPUS):
        with open(os.path.join(OUT, "corpus", f"{i}.py"), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    print(f"wrote {GOLDEN} and {len(of.MEANS_CORPUS)} corpus files")


def test_committed_golden_is_compute_means():
    tensors, meta = golden_tensors()
    with safe_open(GOLDEN, "pt") as f:
        assert json.loads(f.metadata()["cases"]) == json.loads(meta["cases"])
        assert sorted(f.keys()) == sorted(tensors)
        for k, v in tensors.items():
            if k.endswith("/tokens"):
                assert torch.equal(f.get_tensor(k), v), k
            else:
                # Not bit-equal across CPUs: MKL chooses its kernels, and so the order of its sums, by the CPU's
                # instruction set; on an AVX2-only CPU the means differed from the committed ones (written on another
                # machine) by up to 1.2e-7 (values up to 1.4). A change to what compute_means computes moves every
                # site far more (one window fewer: >= 0.03; windows one token shorter: >= 0.003), and the runtime is
                # checked against these means at 1e-4.
                torch.testing.assert_close(f.get_tensor(k), v, rtol=0, atol=1e-6, msg=k)


def test_committed_corpus_files_are_the_fixture_corpus():
    for i, text in enumerate(of.MEANS_CORPUS):
        with open(os.path.join(OUT, "corpus", f"{i}.py"), encoding="utf-8", newline="") as fh:
            assert fh.read() == text


def test_corpus_case_is_the_fixture_mean_baseline():
    """The fixture's released mean baseline was made by the same computation on the same corpus (openai_fixtures)."""
    baseline = torch.load(os.path.join(FIX, "released", "viz", of.SMALL_NAME, "mean_baseline_pretrain.pt"), weights_only=True)
    tensors, _ = golden_tensors()
    for site, v in baseline.items():
        torch.testing.assert_close(tensors[f"corpus/{site}"], v, rtol=0, atol=1e-6)


if __name__ == "__main__":
    write()
