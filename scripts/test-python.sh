#!/usr/bin/env bash
# Python (training side) tests, in .venv with PyPI's torch (scripts/setup-python.sh makes or refreshes it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-python.sh
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec .venv/bin/python -m pytest train/tests -q "$@"
