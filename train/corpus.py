"""Build the Python training corpus from real, published Python source.

Sources:
  * the local standard library (``/usr/lib/python3.11`` by default), and
  * wheels of a few PyPI packages (numpy, scipy, pandas, sympy, networkx, matplotlib) downloaded with
    ``pip download --no-deps --only-binary=:all:`` at pinned versions into ``train/data/wheels``. Their test
    suites are kept: they hold most of the nested list literals (``[[1, 2], [3, 4]]``) the bracket task needs.

Files are deduplicated by sha256 of their bytes and split by FILE (never inside a file) into
train / val / heldout, deterministically from the hash. Outputs:
  * ``train/corpus_manifest.jsonl``: one line per kept file: package, version, path, sha256, split, bytes;
  * ``train/corpus_manifest.sha256``: sha256 of that manifest;
  * ``train/data/files_<split>.jsonl``: the texts (not committed; rebuilt from the sources).

The extended corpus (``--extended``) adds the pinned wheels of ``EXTRA_PACKAGES`` to the TRAINING split only. Its
val and heldout splits are the base corpus's, file for file, so validation losses stay comparable with every model
trained on the base corpus. An extra file whose hash would have put it in val goes to a split of its own,
``val_extra``, which measures the loss on the added code bases' text; one whose hash says heldout is held back (named
in the manifest, written nowhere). A file already in the base corpus is not counted twice. It writes
``train/corpus_extra_manifest.jsonl`` (+ ``.sha256``, the extra rows only) and
``train/data/extended/files_<split>.jsonl``; ``data_prep.py --data train/data/extended`` tokenizes it and
``train.py --data train/data/extended`` trains on it.

Usage:  python train/corpus.py [--download] [--stdlib /usr/lib/python3.11] [--extended]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from constructs import count_constructs  # noqa: E402

DATA = os.path.join(HERE, "data")
WHEELS = os.path.join(DATA, "wheels")
MANIFEST = os.path.join(HERE, "corpus_manifest.jsonl")

# Pinned PyPI sources (wheels for CPython 3.11 / manylinux x86_64 or pure Python).
PACKAGES = {
    "numpy": "2.3.5",
    "scipy": "1.16.3",
    "pandas": "2.3.3",
    "sympy": "1.14.0",
    "networkx": "3.5",
    "matplotlib": "3.10.7",
}
# More published Python for the extended corpus's training split: large, maintained code bases rich in the task
# constructs the base corpus has few of (``x = set()``, ``x = ""``, ``with ... as``, ternaries); see --extended.
EXTRA_PACKAGES = {
    "ansible-core": "2.19.14",
    "astropy": "8.0.2",
    "django": "5.2.19",
    "docutils": "0.23.1",
    "hypothesis": "6.170.27",
    "ipython": "9.19.1",
    "jedi": "0.20.1",
    "pygments": "2.21.0",
    "pylint": "4.1.5",
    "scikit-learn": "1.9.1",
    "setuptools": "84.2.1",
    "sphinx": "9.0.4",
    "sqlalchemy": "2.1.9",
    "tornado": "6.6.1",
    "transformers": "5.25.0",
    "twisted": "26.10.0",
}
EXTRA_WHEELS = os.path.join(DATA, "wheels-extra")
EXTENDED_DATA = os.path.join(DATA, "extended")
EXTRA_MANIFEST = os.path.join(HERE, "corpus_extra_manifest.jsonl")
VAL_EXTRA = "val_extra"  # an extra file that would have landed in val: its own split, the added text's validation
HELD_BACK = "held_back"  # an extra file that would have landed in heldout: listed, never written
MAX_FILE_BYTES = 400_000  # skip giant generated files
SPLITS = ("train", "val", "heldout")


def split_of(sha: str) -> str:
    """Deterministic split from the content hash: 90% train, 5% val, 5% heldout."""
    b = int(sha[:8], 16) % 100
    if b < 90:
        return "train"
    if b < 95:
        return "val"
    return "heldout"


def download(dest: str = WHEELS, packages: dict[str, str] = PACKAGES) -> None:
    os.makedirs(dest, exist_ok=True)
    reqs = [f"{k}=={v}" for k, v in packages.items()]
    subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                           "--python-version", "3.11", "--platform", "manylinux2014_x86_64",
                           "--platform", "manylinux_2_28_x86_64", "-d", dest, *reqs])


def iter_sources(stdlib: str, wheels: str):
    """Yield (package, version, path, bytes) for every candidate .py file, in a fixed order."""
    ver = "%d.%d" % sys.version_info[:2]
    if stdlib and os.path.isdir(stdlib):
        for root, dirs, files in os.walk(stdlib):
            dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "dist-packages", "__pycache__"))
            for f in sorted(files):
                if f.endswith(".py"):
                    p = os.path.join(root, f)
                    with open(p, "rb") as fh:
                        yield "cpython-stdlib", os.path.basename(stdlib.rstrip("/")).replace("python", "") or ver, \
                            os.path.relpath(p, stdlib), fh.read()
    yield from iter_wheels(wheels)


def wheel_name_version(filename: str) -> tuple[str, str]:
    """A wheel file's distribution name and version, as its file name spells them (a '-' in a name becomes '_')."""
    name, version = filename.split("-")[:2]
    return name, version


def iter_wheels(wheels: str):
    """Yield (package, version, path, bytes) for every .py file of every wheel in a folder, in a fixed order."""
    if os.path.isdir(wheels):
        for whl in sorted(os.listdir(wheels)):
            if not whl.endswith(".whl"):
                continue
            name, version = wheel_name_version(whl)
            with zipfile.ZipFile(os.path.join(wheels, whl)) as z:
                for info in sorted(z.infolist(), key=lambda i: i.filename):
                    if info.filename.endswith(".py"):
                        yield name, version, info.filename, z.read(info)


def _kept_files(sources, seen: set):
    """(pkg, version, path, sha, text, size in bytes) for every source file kept: not too large, UTF-8, not seen
    before."""
    for pkg, version, path, data in sources:
        if len(data) > MAX_FILE_BYTES or len(data) == 0:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        sha = hashlib.sha256(data).hexdigest()
        if sha in seen:
            continue
        seen.add(sha)
        yield pkg, version, path, sha, text, len(data)


def _write_manifest(rows: list[dict], manifest: str) -> str:
    with open(manifest, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, sort_keys=True) + "\n")
    with open(manifest, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    with open(manifest.replace(".jsonl", ".sha256"), "w") as fh:
        fh.write(digest + "  " + os.path.basename(manifest) + "\n")
    return digest


def build(stdlib: str, wheels: str, out_dir: str = DATA, manifest: str = MANIFEST, verbose: bool = True,
          extra_wheels: str | None = None, extra_manifest: str = EXTRA_MANIFEST) -> dict:
    """Write files_<split>.jsonl and the manifest; with extra_wheels, add their files to the train split only."""
    os.makedirs(out_dir, exist_ok=True)
    seen = set()
    rows, extra_rows = [], []
    splits = SPLITS + ((VAL_EXTRA,) if extra_wheels is not None else ())
    outs = {s: open(os.path.join(out_dir, f"files_{s}.jsonl"), "w", encoding="utf-8") for s in splits}
    counts = {s: Counter() for s in splits}
    nbytes = Counter()

    def keep(split, pkg, path, sha, text, size):
        outs[split].write(json.dumps({"sha256": sha, "package": pkg, "path": path, "text": text}) + "\n")
        counts[split].update(count_constructs(text))
        counts[split]["files"] += 1
        nbytes[split] += size

    for pkg, version, path, sha, text, size in _kept_files(iter_sources(stdlib, wheels), seen):
        split = split_of(sha)
        rows.append({"package": pkg, "version": version, "path": path, "sha256": sha, "split": split, "bytes": size})
        keep(split, pkg, path, sha, text, size)
    if extra_wheels is not None:
        # After every base file, so a file the base corpus already has stays where the base put it.
        for pkg, version, path, sha, text, size in _kept_files(iter_wheels(extra_wheels), seen):
            split = {"train": "train", "val": VAL_EXTRA}.get(split_of(sha), HELD_BACK)
            extra_rows.append({"package": pkg, "version": version, "path": path, "sha256": sha, "split": split,
                               "bytes": size})
            if split != HELD_BACK:
                keep(split, pkg, path, sha, text, size)
    for f in outs.values():
        f.close()
    digest = _write_manifest(rows, manifest)
    summary = {"manifest_sha256": digest, "splits": {s: dict(counts[s], bytes=nbytes[s]) for s in splits}}
    if extra_wheels is not None:
        summary["extra_manifest_sha256"] = _write_manifest(extra_rows, extra_manifest)
        summary["extra_files"] = Counter(r["split"] for r in extra_rows)
    if verbose:
        keys = ["files", "bytes", "str_single", "str_double", "list_depth1_eol", "list_depth2_eol",
                "init_set", "init_str", "while_true", "return_true"]
        print("split     " + " ".join(f"{k:>16}" for k in keys))
        for s in splits:
            print(f"{s:9} " + " ".join(f"{summary['splits'][s].get(k, 0):>16}" for k in keys))
        print("manifest sha256:", digest)
        if extra_wheels is not None:
            print("extra files:", dict(summary["extra_files"]), "extra manifest sha256:",
                  summary["extra_manifest_sha256"])
    return summary


def load_files(split: str, out_dir: str = DATA):
    with open(os.path.join(out_dir, f"files_{split}.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def missing_wheels(folder: str, packages: dict[str, str]) -> list[str]:
    """The pins of `packages` with no wheel in `folder`."""
    wheels = [w for w in os.listdir(folder) if w.endswith(".whl")] if os.path.isdir(folder) else []
    have = {(name.lower(), version) for name, version in map(wheel_name_version, wheels)}
    return [f"{k}=={v}" for k, v in packages.items() if (k.replace("-", "_"), v) not in have]


def main(argv: list[str] | None = None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--download", action="store_true", help="pip download the pinned wheels first")
    ap.add_argument("--stdlib", default="/usr/lib/python3.11")
    ap.add_argument("--wheels", default=WHEELS)
    ap.add_argument("--extended", action="store_true",
                    help=f"also add EXTRA_PACKAGES' files to the train split, writing {EXTENDED_DATA} and "
                         f"{os.path.basename(EXTRA_MANIFEST)} (the base manifest is rewritten unchanged)")
    ap.add_argument("--extra-wheels", default=EXTRA_WHEELS)
    args = ap.parse_args(argv)
    if args.download:
        download(args.wheels)
        if args.extended:
            download(args.extra_wheels, EXTRA_PACKAGES)
    # Without every pinned wheel the splits (and the committed manifests this rewrites) would silently change.
    missing = missing_wheels(args.wheels, PACKAGES)
    if args.extended:
        missing += missing_wheels(args.extra_wheels, EXTRA_PACKAGES)
    if missing:
        raise SystemExit(f"missing pinned wheels: {', '.join(missing)}; run with --download first "
                         f"(wheels in {args.wheels}" + (f" and {args.extra_wheels})" if args.extended else ")"))
    if args.extended:
        build(args.stdlib, args.wheels, out_dir=EXTENDED_DATA, extra_wheels=args.extra_wheels)
    else:
        build(args.stdlib, args.wheels)


if __name__ == "__main__":
    main()
