"""Reading a released circuit file by its content, whatever it is named.

OpenAI's README calls the payload viz_data.pkl while its viewer (viz.py, load_data) asserts a .pt name and calls
torch.load(..., weights_only=True), so users may hold either name, with either content:

- a torch.save zip (or torch's legacy pickle format): read by safe_torch_load, exactly as a viz_data.pt;
- a bare pickle stream (pickle.dump of the viz dict, protocol 2 to 5): read by BareUnpickler below. Its only globals
  are torch's weights-only allowlist (the one torch.load(weights_only=True) uses) and torch.storage._load_from_bytes,
  the way pickle.dump writes a tensor's storage. That global is never imported: it is answered by storage_from_bytes,
  which reads the embedded bytes (a legacy torch.save of one storage) with torch.load(weights_only=True);
- anything else: refused, naming the file and what was found.

torch's own weights-only unpickler cannot read a bare pickle: it knows only protocol 2's opcodes (no FRAME,
MEMOIZE, BINBYTES...), and protocol 2 pickles bytes through _codecs.encode.
"""
from __future__ import annotations

import _compat_pickle
import io
import os
import pickle
import pickletools
import warnings

import torch

from .common import OpenAIImportError
from .safe_load import header_problem, safe_torch_load

LOAD_FROM_BYTES = "torch.storage._load_from_bytes"
# torch.save's legacy (pre-1.6) format opens with a pickle of this number: LONG1, 10 bytes, little-endian.
_LEGACY_MAGIC = b"\x8a\x0a" + torch.serialization.MAGIC_NUMBER.to_bytes(10, "little")
# Opcodes that build objects or call methods other than through an allowed global's REDUCE; plain pickle.dump of the
# viz dict (dicts, lists, tuples, numbers, strings, tensors) needs none of them.
_REFUSED_OPCODES = {op.code.encode("latin-1")[0]: op.name for op in pickletools.opcodes
                    if op.name in ("BUILD", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4")}


class Refusal(pickle.UnpicklingError):
    """Something the allowlist does not admit (as opposed to a corrupt or truncated stream)."""


class RefusedGlobal(Refusal):
    """The pickle asks for a global outside the allowlist (nothing of it was imported)."""

    def __init__(self, full: str):
        super().__init__(full)
        self.full = full


def is_legacy_torch_save(head: bytes) -> bool:
    """Whether a pickle stream is torch.save's legacy format (PROTO, an optional FRAME, then the magic number)."""
    if len(head) < 2 or head[0] != 0x80:
        return False
    rest = head[2:]
    if rest[:1] == b"\x95":  # FRAME: an 8-byte length follows
        rest = rest[9:]
    return rest.startswith(_LEGACY_MAGIC)


def storage_from_bytes(b):
    """Stands in for torch.storage._load_from_bytes (which calls torch.load with weights_only=False): the embedded
    bytes are read with weights_only=True, and must hold exactly one storage."""
    if not isinstance(b, (bytes, bytearray)):
        raise Refusal(f"{LOAD_FROM_BYTES} is given a {type(b).__name__}, not bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TypedStorage's deprecation warning
            s = torch.load(io.BytesIO(bytes(b)), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        # torch's reason, without its advice to allowlist the global
        detail = str(e).split("WeightsUnpickler error:")[-1].strip().split("\n\n")[0].split(" Please use")[0].strip()
        raise Refusal(f"the bytes given to {LOAD_FROM_BYTES} are not plain tensor data ({detail})") from None
    except Exception as e:  # noqa: BLE001 - corrupt embedded bytes: reported, nothing runs
        raise Refusal(f"the bytes given to {LOAD_FROM_BYTES} are not a readable storage ({e})") from None
    if not isinstance(s, (torch.storage.TypedStorage, torch.UntypedStorage)):
        raise Refusal(f"the bytes given to {LOAD_FROM_BYTES} hold a {type(s).__name__}, not a storage")
    return s


class BareUnpickler(pickle._Unpickler):  # the Python unpickler: its opcode table can be narrowed, the C one's not
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file):
        super().__init__(file, encoding="utf-8")
        from torch import _weights_only_unpickler as wou
        self.allowed = wou._get_allowed_globals()

    def find_class(self, module, name):
        if self.proto < 3:  # Python 2 names (__builtin__.set), renamed as pickle's own find_class does
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        full = f"{module}.{name}"
        if full == LOAD_FROM_BYTES:
            return storage_from_bytes
        if full in self.allowed:
            return self.allowed[full]
        raise RefusedGlobal(full)

    def persistent_load(self, pid):
        raise Refusal("a persistent id, which pickle.dump does not write (a torch.save pickle outside its zip?)")


def _refuse_opcode(name):
    def refuse(self):
        raise Refusal(f"opcode {name}, which builds objects other than through an allowed global")
    return refuse


for _code, _name in _REFUSED_OPCODES.items():
    BareUnpickler.dispatch[_code] = _refuse_opcode(_name)


def load_bare_pickle(path: str, what: str):
    """A pickle.dump stream -> its value, through BareUnpickler; refusals name the global or the opcode."""
    try:
        with open(path, "rb") as fh:
            return BareUnpickler(fh).load()
    except RefusedGlobal as e:
        raise OpenAIImportError(
            f"{path}: refused to load {what}: the pickle asks for global {e.full}; only tensors, storages, "
            f"OrderedDict, containers and numbers (torch's weights_only allowlist) and {LOAD_FROM_BYTES} are read. "
            f"If the file is trusted, save its contents with torch.save as viz_data.pt") from None
    except Refusal as e:
        raise OpenAIImportError(f"{path}: refused to load {what}: a pickle that is not plain tensor data: {e}") from None
    except Exception as e:  # noqa: BLE001 - truncated or corrupt streams: the reason is reported, nothing runs
        reason = str(e).strip() or type(e).__name__
        reason = (f"the file ends early: truncated ({os.path.getsize(path)} bytes)" if isinstance(e, EOFError)
                  else f"{reason} (a truncated or corrupt stream, {os.path.getsize(path)} bytes)")
        raise OpenAIImportError(f"{path}: cannot read {what} as a pickle: {reason}") from None


def load_viz_file(path: str, what: str = "viz data"):
    """A released circuit file (viz_data.pt or viz_data.pkl) -> its value, told apart by content, not by name."""
    if not os.path.isfile(path):
        raise OpenAIImportError(f"{path}: {what} not found")
    problem = header_problem(path)
    if problem:
        raise OpenAIImportError(f"{path}: not a torch.save zip or a pickle: {problem} (expected {what})")
    with open(path, "rb") as fh:
        head = fh.read(32)
    if head.startswith(b"PK") or is_legacy_torch_save(head):
        return safe_torch_load(path, what)
    return load_bare_pickle(path, what)
