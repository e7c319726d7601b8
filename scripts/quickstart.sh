#!/usr/bin/env bash
# README command 1: set up, build, and run the default job on the bundled sample data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
./build/release/cli/ballast backtest configs/portfolios/sixty-thirty-ten-monthly.json "$@"
