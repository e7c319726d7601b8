#!/usr/bin/env bash
# Whole `ballast backtest` wall time (load + replay + outputs) for the issue's benchmark: monthly
# equal-weight calendar rebalancing of the 470 S&P 500 symbols that have all 1,259 days of
# all_stocks_5yr, plus the kernel benchmark on the same store.
#   bench/whole_run.sh [path/to/all_stocks_5yr.csv.gz]
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/prepare_sp500.sh "$@"
bin=./build/release/cli/ballast
work=build/bench-data
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 2 --runs 20 "$bin backtest $work/sp500-monthly.json --out $work/run --force --quiet --no-workbook" \
    "$bin backtest $work/sp500-monthly.json --out $work/run --force --quiet"
else
  for i in 1 2 3 4 5; do
    /usr/bin/time -f "whole run: %e s, %M KB peak" "$bin" backtest "$work/sp500-monthly.json" --out "$work/run" --force --quiet
  done
fi
BALLAST_BENCH_STORE="$work/sp500.h5" ./build/release/bench/ballast_bench --benchmark_min_time=1
