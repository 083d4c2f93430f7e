#!/usr/bin/env bash
# The trainer's virtual environment (.venv) with the pinned PyPI packages (torch included). Re-installs only when
# the requirements changed, so running it before every test is cheap.
#
# On Linux x86_64 it installs train/requirements-lock.txt (every package pinned, no triton) with --no-deps, the
# large CUDA wheels that PyPI's torch needs one at a time and without pip's cache: the install then needs about
# 4.5 GB on the filesystem of .venv, against about 9 GB for `pip install -r train/requirements.txt` with the cache.
# Elsewhere it installs train/requirements.txt, the one command train/README.md gives for any OS.
set -euo pipefail
cd "$(dirname "$0")/.."
REQ=train/requirements.txt
LOCK=train/requirements-lock.txt
STAMP=.venv/.requirements.sha256
want=$(cat "$REQ" "$LOCK" | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi

# Every pin of requirements.txt must be the same in the lock, or the two installs would differ.
entries() { grep -v -E '^\s*(#|$)' "$1"; }   # a requirements file's lines without comments and blanks
pins() { entries "$1" | tr 'A-Z_' 'a-z-' | sort; }
drift=$(comm -23 <(pins "$REQ") <(pins "$LOCK"))
if [ -n "$drift" ]; then
  echo "setup-python: $LOCK lacks these pins of $REQ (re-make it with pip freeze): $drift" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  PY=""
  for cand in python3 /usr/bin/python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys, ensurepip, venv; assert sys.version_info >= (3, 10)' 2>/dev/null; then
      PY=$cand; break
    fi
  done
  [ -n "$PY" ] || { echo "setup-python: no Python >= 3.10 with venv (run scripts/install-system-deps.sh)" >&2; exit 1; }
  "$PY" -m venv .venv
fi

# pip's temporary files on the same filesystem as .venv, so that a small /tmp cannot fail the install.
export TMPDIR="$PWD/.venv/.pip-tmp"
rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"
free=$(df -Pk .venv | awk 'NR==2 { printf "%.1f GB", $4 / 1048576 }')
on_fail() {
  echo "setup-python: the install failed; it needs about 4.5 GB free on the filesystem of .venv ($free were free before it)" >&2
}
trap on_fail ERR
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check --no-cache-dir)

if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ]; then
  echo "setup-python: installing $LOCK into .venv ($free free; PyPI's torch and its CUDA libraries are about 4.5 GB)"
  mapfile -t all < <(entries "$LOCK")
  small=(); large=()
  for p in "${all[@]}"; do
    case "$p" in torch==*|nvidia-*|cuda-*) large+=("$p") ;; *) small+=("$p") ;; esac
  done
  "${PIP[@]}" --no-deps "${small[@]}"
  for p in "${large[@]}"; do "${PIP[@]}" --no-deps "$p"; done
else
  echo "setup-python: pip install -r $REQ into .venv ($free free; PyPI's torch is a large download the first time)"
  "${PIP[@]}" -r "$REQ"
fi
.venv/bin/python -c 'import torch, numpy, safetensors, tiktoken, tokenizers, pytest'
trap - ERR
rm -rf "$TMPDIR"
echo "$want" > "$STAMP"
