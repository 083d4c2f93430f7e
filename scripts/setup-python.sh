#!/usr/bin/env bash
# The trainer's virtual environment (.venv) with the pinned PyPI packages of train/requirements.txt (torch
# included). Re-installs only when the requirements file changed, so running it before every test is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
REQ=train/requirements.txt
STAMP=.venv/.requirements.sha256
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
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
echo "setup-python: pip install -r $REQ into .venv (PyPI's torch is a large download the first time)"
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$REQ"
echo "$want" > "$STAMP"
