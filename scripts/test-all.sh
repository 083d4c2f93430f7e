#!/usr/bin/env bash
# The one test command (npm test): types, unit tests (Node: cpu + wasm backends), trainer tests (pytest),
# production build, then end-to-end tests in Debian's Chromium (WebGPU via SwiftShader, WebGL, WASM).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== unit tests"; npx vitest run
echo "== trainer tests"; bash scripts/test-python.sh
echo "== build"; npx vite build --logLevel warn
echo "== end-to-end"; npx playwright test
