"""What every part of the importer shares: its error type, progress lines and repository-relative paths."""
from __future__ import annotations

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMMAND = "python train/openai_import"  # how the converter is run; recorded in the files it writes

_T0 = time.time()


class OpenAIImportError(Exception):
    """A released file that cannot be converted faithfully; the message names the file, key or tensor."""


def progress(msg: str) -> None:
    print(f"[openai-import {time.time() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def rel_path(path: str) -> str:
    """Repository-relative path when inside the repository (so outputs do not depend on the checkout's location)."""
    a = os.path.abspath(path)
    try:
        r = os.path.relpath(a, ROOT)
    except ValueError:
        return a
    return a if r.startswith("..") else r.replace(os.sep, "/")


def shape_str(shape) -> str:
    return "[" + ",".join(str(int(s)) for s in shape) + "]"


def listed(items, most: int = 8) -> str:
    """'a, b, c' or 'a, ..., h and 4 more': names in an error message without flooding it."""
    items = [str(i) for i in items]
    return ", ".join(items[:most]) + (f" and {len(items) - most} more" if len(items) > most else "")
