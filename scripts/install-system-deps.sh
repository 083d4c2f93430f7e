#!/usr/bin/env bash
# Debian packages the tests need: Chromium for Playwright (never `playwright install`: no browser downloads), and
# python3-venv only where no Python on PATH can make a virtual environment. The trainer's packages (PyPI's torch
# included) come from train/requirements.txt through scripts/setup-python.sh, not from apt.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
if ! python3 -c 'import ensurepip, venv' 2>/dev/null && ! /usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null; then
  need+=(python3-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "install-system-deps: apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
