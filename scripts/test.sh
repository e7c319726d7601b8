#!/usr/bin/env bash
# README command 2: set up, build and run the whole test suite.
#   scripts/test.sh          release build (warnings as errors) + all tests
#   scripts/test.sh --asan   the same under AddressSanitizer + UndefinedBehaviorSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
preset=release
if [ "${1:-}" = "--asan" ]; then preset=asan; fi
# Node.js runs @stoqey/ib, the real TWS API client the fake IB Gateway is checked against
# (Debian's nodejs and npm, unless a node and an npm are already on PATH).
node_packages=""
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  node_packages="nodejs npm"
fi
BALLAST_EXTRA_PACKAGES="$node_packages ${BALLAST_EXTRA_PACKAGES:-}" BALLAST_PRESET="$preset" scripts/setup.sh
if [ ! -f tests/ib_client/node_modules/@stoqey/ib/package.json ]; then
  echo "test: installing tests/ib_client (npm ci)"
  npm ci --prefix tests/ib_client --no-audit --no-fund --loglevel=error
fi
ctest --preset "$preset" -j "$(nproc)"
