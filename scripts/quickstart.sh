#!/usr/bin/env bash
# README command 1: set up, build, and run the default job on the bundled sample data: the
# classic comparison suite (six portfolios x seven rebalancing styles), printing its table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
./build/release/cli/ballast suite configs/suites/classic.json "$@"
