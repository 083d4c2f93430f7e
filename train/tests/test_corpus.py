"""corpus.build on a small synthetic stdlib and wheels: the split rule, dedup, and the extended corpus's promise that
its val and heldout splits are the base corpus's, file for file."""
import hashlib
import json
import os
import zipfile

import pytest

import corpus
from corpus import HELD_BACK, VAL_EXTRA, build, load_files, missing_wheels, split_of


def source(i: int) -> bytes:
    return f"def f{i}():\n    x = set()\n    return 'v{i}'\n".encode()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def first_in_split(split: str, start: int, n: int = 3) -> list[int]:
    """Indices i >= start whose source(i) split_of() puts in `split` (the rule is the content hash)."""
    out, i = [], start
    while len(out) < n:
        if split_of(sha(source(i))) == split:
            out.append(i)
        i += 1
    return out


def write_wheel(path, name: str, files: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as z:
        for fn, data in files.items():
            z.writestr(fn, data)


@pytest.fixture
def sources(tmp_path):
    """A stdlib folder, one base wheel, and an extra wheel that repeats one base file and has files of every split."""
    stdlib = tmp_path / "python3.11"
    stdlib.mkdir()
    base_ids = first_in_split("train", 0) + first_in_split("val", 0) + first_in_split("heldout", 0)
    for i in base_ids[:4]:
        (stdlib / f"m{i}.py").write_bytes(source(i))
    (stdlib / "latin1.py").write_bytes(b"s = '\xe9'\n")  # not UTF-8: skipped
    wheels, extra = tmp_path / "wheels", tmp_path / "extra"
    wheels.mkdir()
    extra.mkdir()
    write_wheel(wheels / "base-1.0-py3-none-any.whl", "base",
                {f"base/m{i}.py": source(i) for i in base_ids[4:]} | {"base/data.txt": b"not python"})
    extra_ids = first_in_split("train", 1000) + first_in_split("val", 1000) + first_in_split("heldout", 1000)
    write_wheel(extra / "more-2.0-py3-none-any.whl", "more",
                {f"more/e{i}.py": source(i) for i in extra_ids} | {"more/dup.py": source(base_ids[-1])})
    return {"stdlib": str(stdlib), "wheels": str(wheels), "extra": str(extra), "base_ids": base_ids,
            "extra_ids": extra_ids, "tmp": tmp_path}


def texts(split, folder):
    return [f["text"] for f in load_files(split, str(folder))]


def test_base_split_follows_the_content_hash(sources):
    out = sources["tmp"] / "base"
    summary = build(sources["stdlib"], sources["wheels"], out_dir=str(out), manifest=str(out / "m.jsonl"),
                    verbose=False)
    rows = [json.loads(line) for line in open(out / "m.jsonl")]
    assert len(rows) == 9  # the latin-1 file and the wheel's non-Python file are not kept
    assert sorted(os.listdir(out)) == ["files_heldout.jsonl", "files_train.jsonl", "files_val.jsonl", "m.jsonl",
                                       "m.sha256"]  # no val_extra without extra wheels
    for r in rows:
        assert r["split"] == split_of(r["sha256"])
    for split in ("train", "val", "heldout"):
        assert summary["splits"][split]["files"] == 3 == len(texts(split, out))
        assert summary["splits"][split]["init_set"] == 3
    digest = (out / "m.sha256").read_text().split()[0]
    assert digest == summary["manifest_sha256"] == sha((out / "m.jsonl").read_bytes())


def test_extended_adds_training_files_only(sources):
    base, ext = sources["tmp"] / "base", sources["tmp"] / "ext"
    build(sources["stdlib"], sources["wheels"], out_dir=str(base), manifest=str(base / "m.jsonl"), verbose=False)
    summary = build(sources["stdlib"], sources["wheels"], out_dir=str(ext), manifest=str(ext / "m.jsonl"),
                    verbose=False, extra_wheels=sources["extra"], extra_manifest=str(ext / "extra.jsonl"))
    # The base manifest and the val and heldout files are unchanged, byte for byte.
    assert (ext / "m.jsonl").read_bytes() == (base / "m.jsonl").read_bytes()
    for split in ("val", "heldout"):
        assert (ext / f"files_{split}.jsonl").read_bytes() == (base / f"files_{split}.jsonl").read_bytes()
    # Train gains exactly the extra files whose hash says train, val_extra those it says val; the heldout ones are held
    # back, written nowhere.
    in_wheel_order = sorted(sources["extra_ids"])  # ids 1000-9999: name order is number order
    extra_train = [source(i).decode() for i in in_wheel_order if split_of(sha(source(i))) == "train"]
    assert texts("train", ext) == texts("train", base) + extra_train
    rows = [json.loads(line) for line in open(ext / "extra.jsonl")]
    assert [r["path"] for r in rows] == [f"more/e{i}.py" for i in in_wheel_order]
    assert [r["split"] for r in rows] == [
        {"train": "train", "val": VAL_EXTRA}.get(split_of(sha(source(i))), HELD_BACK) for i in in_wheel_order]
    assert texts(VAL_EXTRA, ext) == [source(i).decode() for i in in_wheel_order if split_of(sha(source(i))) == "val"]
    assert {r["package"] for r in rows} == {"more"} and {r["version"] for r in rows} == {"2.0"}
    # The extra wheel's copy of a base file is dropped: the base already has it, in the base's split.
    assert "more/dup.py" not in {r["path"] for r in rows}
    assert summary["extra_files"] == {"train": 3, VAL_EXTRA: 3, HELD_BACK: 3}
    assert summary["splits"]["train"]["files"] == 6 and summary["splits"][VAL_EXTRA]["files"] == 3


def test_a_build_without_every_pinned_wheel_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    wheels, extra = tmp_path / "wheels", tmp_path / "extra"
    wheels.mkdir()
    for k, v in corpus.PACKAGES.items():
        (wheels / f"{k}-{v}-py3-none-any.whl").write_bytes(b"")
    written = []
    monkeypatch.setattr(corpus, "build", lambda *a, **k: written.append((a, k)))
    assert missing_wheels(str(wheels), corpus.PACKAGES) == []
    assert missing_wheels(str(tmp_path / "nowhere"), {"ansible-core": "1.0"}) == ["ansible-core==1.0"]
    (extra).mkdir()
    (extra / "ansible_core-1.0-py3-none-any.whl").write_bytes(b"")
    assert missing_wheels(str(extra), {"ansible-core": "1.0", "django": "5.0"}) == ["django==5.0"]
    with pytest.raises(SystemExit, match=r"missing pinned wheels: .*transformers==.*--download"):
        corpus.main(["--wheels", str(wheels), "--extended", "--extra-wheels", str(extra)])
    os.remove(next(wheels.glob("numpy-*")))
    with pytest.raises(SystemExit, match=r"missing pinned wheels: numpy=="):
        corpus.main(["--wheels", str(wheels)])
    assert written == []
