"""Released circuits named viz_data.pkl (OpenAI's README's name; its viewer loads viz_data.pt with torch.load): read by
content, never by name. A torch.save zip imports exactly as a viz_data.pt; a bare pickle (pickle.dump) is read with
torch's weights-only allowlist plus torch.storage._load_from_bytes, answered without running torch's own; anything
else is refused, naming the file."""
import io
import json
import os
import pickle
import pickletools
import shutil

import pytest
import torch

import openai_fixtures as of
import openai_import as oi
from model_folder import sha256_file
from openai_import.common import rel_path
from openai_import.pipeline import parse_viz_args
from openai_import.tokenizer_means import means_from_baseline
from openai_import.viz_load import load_viz_file
from released_fixture import FIX, RELEASED, TASKS, VIZ_DIR, released_model, viz_path
from tokenizer_train import load_tiktoken


def same(a, b) -> bool:
    """Exact equality of unpickled viz values: types, keys in order, tensors' dtype, shape and every element."""
    if torch.is_tensor(a):
        return torch.is_tensor(b) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return type(a) is type(b) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and (a == b or (a != a and b != b))


def pickle_globals(path):
    """The globals a pickle names (GLOBAL, or STACK_GLOBAL after pushing its module and name), read without running it."""
    with open(path, "rb") as fh:
        ops = list(pickletools.genops(fh))
    out, strings = set(), []
    for op, arg, _ in ops:
        if op.name == "GLOBAL":
            out.add(arg.replace(" ", "."))
        elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8"):
            strings.append(arg)
        elif op.name == "STACK_GLOBAL":
            out.add(".".join(strings[-2:]))
    return out


# ------------------------------------------------------------------------------------------------ the fixture

@pytest.mark.parametrize("task", TASKS)
def test_committed_viz_pickles_hold_the_released_circuits(task):
    """test-fixtures/openai-small/viz-pkl (read by the Vitest tests) is pickle.dump of the released viz_data.pt."""
    pkl = of.viz_pickle_path(FIX, task)
    with open(pkl, "rb") as fh:
        head = fh.read(2)
    assert head == bytes([0x80, of.VIZ_PICKLE_PROTOCOLS[task]])  # a bare pickle: no zip, no legacy magic
    want = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch.storage._load_from_bytes"}
    if of.VIZ_PICKLE_PROTOCOLS[task] == 2:
        want.add("_codecs.encode")  # protocol 2 has no bytes opcode
    assert pickle_globals(pkl) == want
    assert same(load_viz_file(pkl), torch.load(viz_path(task), weights_only=True))


def test_pkl_files_import_exactly_as_the_pt(tmp_path):
    """A torch.save zip named viz_data.pkl and a bare pickle each give the task and circuit files that the .pt gives
    on the same machine, byte for byte once the source path and its sha256 are swapped for the .pt's. (Against the
    committed converted files, made on another machine, floats agree only to rounding: the importer's losses are
    float32 sums whose last bits depend on the CPU's kernels; test_openai_import.py checks those with a tolerance.)"""
    model, enc = released_model(), load_tiktoken(os.path.join(RELEASED, "tinypython"))
    means, _ = means_from_baseline(os.path.join(VIZ_DIR, "mean_baseline_pretrain.pt"), model.cfg)
    zipped = tmp_path / "viz" / of.SMALL_NAME / "single_double_quote" / "prune_v4" / "k_optim" / "viz_data.pkl"
    zipped.parent.mkdir(parents=True)
    shutil.copyfile(viz_path("single_double_quote"), zipped)
    sources = {"single_double_quote": str(zipped), "while_return_true_beeg": of.viz_pickle_path(FIX, "while_return_true_beeg")}
    items = parse_viz_args(list(sources.values()))
    assert items == list(sources.items())  # the task comes from the path, as for viz_data.pt
    out, out_pt = str(tmp_path / "out"), str(tmp_path / "out_pt")
    os.makedirs(out)
    os.makedirs(out_pt)
    for task, path in items:
        oi.import_viz(model, enc, means, path, task, "openai-small", out)
        oi.import_viz(model, enc, means, viz_path(task), task, "openai-small", out_pt)
        for kind in ("tasks", "circuits"):
            with open(os.path.join(out, kind, f"{task}.json")) as fh:
                got = fh.read()
            got = got.replace(rel_path(path), rel_path(viz_path(task))).replace(sha256_file(path), sha256_file(viz_path(task)))
            with open(os.path.join(out_pt, kind, f"{task}.json")) as fh:
                assert got == fh.read(), (task, kind)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_bare_pickle_tensors_of_every_dtype(tmp_path, protocol):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    value = {"f32": base[1:, ::2], "f16": base.half(), "bf16": base.bfloat16(), "f64": base.double()[2],
             "i64": torch.tensor([-(2 ** 40), 7]), "bool": base > 10, "u8": base.to(torch.uint8).t(),
             "nested": ({"loss": 0.25, "n": 3, "name": "x", "none": None}, [1.5, float("inf")]),
             "param": torch.nn.Parameter(torch.ones(2))}
    path = tmp_path / "viz_data.pkl"
    with open(path, "wb") as fh:
        pickle.dump(value, fh, protocol=protocol)
    got = load_viz_file(str(path))
    assert same({k: v for k, v in got.items() if k != "param"}, {k: v for k, v in value.items() if k != "param"})
    assert torch.equal(got["param"], value["param"])


def test_legacy_torch_save_named_pkl_is_read_as_torch_save(tmp_path):
    path = tmp_path / "viz_data.pkl"
    viz = torch.load(viz_path("single_double_quote"), weights_only=True)
    torch.save(viz, path, _use_new_zipfile_serialization=False)
    assert same(load_viz_file(str(path)), viz)


# ------------------------------------------------------------------------------------------------ refusals

class Evil:
    """Unpickling this would create MARKER (a stand-in for arbitrary code)."""
    marker = None

    def __reduce__(self):
        return (exec, (f"open({Evil.marker!r}, 'w').write('pwned')",))


class EvilStorage:
    """Pickles as torch.storage._load_from_bytes of a legacy torch.save that holds Evil."""

    def __reduce__(self):
        buf = io.BytesIO()
        torch.save(Evil(), buf, _use_new_zipfile_serialization=False)
        return (torch.storage._load_from_bytes, (buf.getvalue(),))


class Built:
    """Pickles as an allowed global's result followed by BUILD (setting its attributes)."""

    def __reduce__(self):
        return (torch.Size, ((2,),), {"x": 1})


def _refused(path, *needles):
    with pytest.raises(oi.OpenAIImportError) as e:
        load_viz_file(str(path))
    msg = str(e.value)
    assert msg.startswith(f"{path}: refused to load viz data"), msg
    for n in needles:
        assert n in msg, msg
    return msg


@pytest.mark.parametrize("protocol", [2, 4])
def test_code_in_a_bare_pickle_is_refused_by_name_and_never_runs(tmp_path, protocol):
    Evil.marker = str(tmp_path / "MARKER")
    path = tmp_path / "viz_data.pkl"
    with open(path, "wb") as fh:
        pickle.dump({"circuit_data": {}, "importances": {"loss": torch.ones(1), "x": Evil()}}, fh, protocol=protocol)
    msg = _refused(path, "global builtins.exec", "save its contents with torch.save as viz_data.pt")
    assert "torch.storage._load_from_bytes" in msg
    assert not os.path.exists(Evil.marker)
    # the same payload behind torch.storage._load_from_bytes: its bytes are read with weights_only=True
    with open(path, "wb") as fh:
        pickle.dump({"circuit_data": {}, "x": EvilStorage()}, fh, protocol=protocol)
    _refused(path, "the bytes given to torch.storage._load_from_bytes are not plain tensor data", "exec")
    assert not os.path.exists(Evil.marker)
    # and plain pickle really would have run it (the payload is live)
    with open(path, "rb") as fh:
        pickle.load(fh)
    assert os.path.exists(Evil.marker)


def test_other_globals_and_object_opcodes_are_refused(tmp_path):
    path = tmp_path / "viz_data.pkl"
    path.write_bytes(b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00trueq\x00\x85R.")
    _refused(path, "global os.system")
    path.write_bytes(b"\x80\x04\x8c\x05numpy\x8c\x05dtype\x93.")
    _refused(path, "global numpy.dtype")
    with open(path, "wb") as fh:
        pickle.dump(Built(), fh, protocol=2)
    _refused(path, "opcode BUILD")
    # the bytes of torch.storage._load_from_bytes must hold a storage, not any other data
    buf = io.BytesIO()
    torch.save({"a": 1}, buf, _use_new_zipfile_serialization=False)
    path.write_bytes(b"\x80\x04\x8c\x0dtorch.storage\x8c\x10_load_from_bytes\x93"
                     + b"B" + len(buf.getvalue()).to_bytes(4, "little") + buf.getvalue() + b"\x85R.")
    _refused(path, "hold a dict, not a storage")


@pytest.mark.parametrize("content,needle", [
    (b"", "not a torch.save zip or a pickle: 0 bytes"),
    (b"<html><body>Not Found</body></html>", "not a torch.save zip or a pickle: no zip or pickle header"),
    (b"(dp0\nS'a'\np1\nI1\ns.", "not a torch.save zip or a pickle: no zip or pickle header"),  # protocol 0: not written by torch
])
def test_files_that_are_neither_zip_nor_pickle_name_the_file(tmp_path, content, needle):
    path = tmp_path / "viz_data.pkl"
    path.write_bytes(content)
    with pytest.raises(oi.OpenAIImportError) as e:
        load_viz_file(str(path))
    assert str(e.value).startswith(f"{path}: {needle}"), str(e.value)


def test_truncated_bare_pickle_says_so(tmp_path):
    path = tmp_path / "viz_data.pkl"
    with open(of.viz_pickle_path(FIX, "while_return_true_beeg"), "rb") as fh:
        path.write_bytes(fh.read()[:5000])
    with pytest.raises(oi.OpenAIImportError) as e:
        load_viz_file(str(path))
    assert str(e.value).startswith(f"{path}: cannot read viz data as a pickle"), str(e.value)
