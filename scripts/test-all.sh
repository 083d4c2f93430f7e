#!/usr/bin/env bash
# The one test command (npm test): installs what the tests need when it is missing (Debian's Chromium, the npm
# packages, the trainer's venv with PyPI's torch), then types, unit tests (Node: cpu + wasm backends), trainer tests
# (pytest), production build, and end-to-end tests in Debian's Chromium (WebGPU via SwiftShader, WebGL, WASM).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== setup"
bash scripts/install-system-deps.sh
[ -d node_modules/@playwright/test ] || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
bash scripts/setup-python.sh
echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== unit tests"; npx vitest run
echo "== trainer tests"; bash scripts/test-python.sh
echo "== build"; npx vite build --logLevel warn
echo "== end-to-end"; npx playwright test
