#!/usr/bin/env bash
# README command 2: set up, build and run the whole test suite.
#   scripts/test.sh          release build (warnings as errors) + all tests
#   scripts/test.sh --asan   the same under AddressSanitizer + UndefinedBehaviorSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
preset=release
if [ "${1:-}" = "--asan" ]; then preset=asan; fi
BALLAST_PRESET="$preset" scripts/setup.sh
ctest --preset "$preset" -j "$(nproc)"
