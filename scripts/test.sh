#!/usr/bin/env bash
# The whole test suite: system packages, build, type check, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm run --silent build
npx tsc --noEmit -p tsconfig.json
npx vitest run "$@"
