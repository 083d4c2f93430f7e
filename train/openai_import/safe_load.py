"""Reading released .pt files without ever running code from them.

Every .pt goes through torch.load(weights_only=True). Before that, the first bytes are checked, so that an empty file
or one that is not a PyTorch checkpoint at all (an HTML error page, a truncated download, random bytes) is named as
such instead of surfacing as torch's unpickler error, which would call it a file that "needs to import code".
"""
from __future__ import annotations

import os
import pickle
import pickletools
import re
import types
from typing import Optional

import torch

from .common import OpenAIImportError

ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format since torch 1.6
# Pickle opcodes that import a global or call one: a file that needs them to unpickle is code, not plain data.
CODE_OPCODES = {"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "REDUCE", "BUILD", "EXT1", "EXT2",
                "EXT4"}


def header_problem(path: str) -> Optional[str]:
    """Why the file cannot be a PyTorch checkpoint, from its size and first bytes; None when it may be one."""
    size = os.path.getsize(path)
    if size == 0:
        return "0 bytes (an empty file; an interrupted or failed download?)"
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(ZIP_MAGIC):
        return None
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:  # PROTO n: a pickle (torch's legacy format)
        return None
    shown = " ".join(f"{b:02x}" for b in head[:8]) + (" ..." if size > 8 else "")
    text = head.decode("utf-8", errors="strict") if all(32 <= b < 127 or b in (9, 10, 13) for b in head) else None
    return (f"no zip or pickle header: first bytes {shown} ({size} bytes)"
            + (f", which read as text {text!r}" if text else ""))


def _restricted_pickle_module():
    """A pickle module whose Unpickler resolves only the globals torch's own weights_only unpickler allows.

    Used only as a fallback on torch < 2, whose weights_only unpickler lacks some plain-data opcodes (e.g. BINFLOAT
    for Python floats, which viz_data.pt files contain). The allowlist is torch's, so this admits exactly the
    objects torch.load(weights_only=True) admits on newer torch: tensors, storages, dtypes, OrderedDict, containers
    and numbers. Nothing outside the allowlist can be imported, hence nothing else can be called.
    """
    from torch import _weights_only_unpickler as wou
    allowed = wou._get_allowed_globals()

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            full = f"{module}.{name}"
            if full in allowed:
                return allowed[full]
            raise pickle.UnpicklingError(f"Unsupported class {full}")

    mod = types.ModuleType("restricted_pickle")
    mod.Unpickler = Unpickler
    mod.UnpicklingError = pickle.UnpicklingError
    mod.load = lambda f, **kw: Unpickler(f, **kw).load()
    return mod


def _restricted_zip_load(path: str):
    """torch's own zip-checkpoint reader (serialization._load) driven by the restricted unpickler.

    Not torch.load(..., pickle_module=...): torch 1.13's torch.load silently replaces any pickle_module by the
    standard pickle when weights_only is False, which would run arbitrary code."""
    from torch import serialization as ts
    mod = _restricted_pickle_module()
    with open(path, "rb") as fh:
        if not ts._is_zipfile(fh):
            raise pickle.UnpicklingError("not a zip checkpoint (the legacy format is not read by the fallback)")
        with ts._open_zipfile_reader(fh) as zf:
            return ts._load(zf, "cpu", mod, encoding="utf-8")


def _opcode_name(detail: str) -> Optional[str]:
    """torch reports an opcode it does not accept as "Unsupported operand <byte>"; the pickle name of that byte."""
    m = re.search(r"Unsupported operand (\d+)", detail)
    if not m or int(m.group(1)) > 255:
        return None
    op = pickletools.code2op.get(chr(int(m.group(1))))
    return op.name if op else f"0x{int(m.group(1)):02x} (not a pickle opcode)"


def safe_torch_load(path: str, what: str):
    """torch.load(path, weights_only=True), refusing (with a clear message) anything that is not plain data."""
    if not os.path.isfile(path):
        raise OpenAIImportError(f"{path}: {what} not found")
    problem = header_problem(path)
    if problem:
        raise OpenAIImportError(f"{path}: not a PyTorch checkpoint: {problem} (expected {what}, saved by torch.save)")
    refused = (f"{path}: refused to load {what}: it is not plain tensor data. Only files that "
               f"torch.load(..., weights_only=True) accepts are imported; this one would need to import or call "
               f"code to unpickle")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        msg = str(e)
        # torch's text goes on to suggest weights_only=False; keep only its first paragraph, the reason
        detail = msg.split("WeightsUnpickler error:")[-1].strip().split("\n\n")[0].strip() or msg
        op = _opcode_name(detail)
        if int(torch.__version__.split(".")[0]) < 2 and op is not None:
            # torch 1.x's weights_only unpickler lacks plain-data opcodes (BINFLOAT...). Same allowlist, full opcodes.
            try:
                return _restricted_zip_load(path)
            except pickle.UnpicklingError as e2:
                raise OpenAIImportError(f"{refused} ({e2}).") from None
        if op is not None and op not in CODE_OPCODES:
            raise OpenAIImportError(
                f"{path}: not a PyTorch checkpoint that torch.load(weights_only=True) reads (expected {what}): its "
                f"pickle stream uses opcode {op}, which plain tensor data does not need; the file is corrupt or "
                f"was not written by torch.save") from None
        raise OpenAIImportError(f"{refused} ({detail}).") from None
    except Exception as e:  # noqa: BLE001 - zip, EOF and decoding errors alike: the reason is reported, nothing runs
        reason = str(e).strip() or type(e).__name__
        if isinstance(e, EOFError):
            reason = f"the file ends early: truncated ({os.path.getsize(path)} bytes)"
        raise OpenAIImportError(f"{path}: cannot read {what}: {reason}") from None
