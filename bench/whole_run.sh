#!/usr/bin/env bash
# Whole `ballast backtest` wall time (load + replay + outputs) for the issue's benchmark: monthly
# equal-weight calendar rebalancing of the 470 S&P 500 symbols that have all 1,259 days of
# all_stocks_5yr, plus the kernel benchmark on the same store.
#   bench/whole_run.sh [path/to/all_stocks_5yr.csv.gz]   (default: ../shared/data/sp500_5yr/...)
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-../shared/data/sp500_5yr/all_stocks_5yr.csv.gz}"
bin=./build/release/cli/ballast
work=build/bench-data
mkdir -p "$work"
store="$work/sp500.h5"
if [ ! -f "$store" ]; then
  echo "importing $src"
  /usr/bin/time -f "import: %e s, %M KB peak" "$bin" data import --out "$store" "$src"
fi
# Equal weight over the symbols with the full 1,259 rows.
"$bin" data info "$store" | awk 'NR>2 && $4==1259 {print $1}' > "$work/symbols.txt"
n=$(wc -l < "$work/symbols.txt")
awk -v n="$n" 'BEGIN{printf "{\"name\": \"sp500 equal weight monthly\", \"data\": {\"store\": \"sp500.h5\"},\n \"strategy\": {\"type\": \"calendar\", \"frequency\": \"monthly\", \"targets\": {"}
  {printf "%s\"%s\": %.17g", (NR>1?", ":""), $1, 1/n} END{print "}}}"}' "$work/symbols.txt" > "$work/sp500-monthly.json"
echo "symbols with all 1,259 days: $n"
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 2 --runs 20 "$bin backtest $work/sp500-monthly.json --out $work/run --force --quiet"
else
  for i in 1 2 3 4 5; do
    /usr/bin/time -f "whole run: %e s, %M KB peak" "$bin" backtest "$work/sp500-monthly.json" --out "$work/run" --force --quiet
  done
fi
BALLAST_BENCH_STORE="$store" ./build/release/bench/ballast_bench --benchmark_min_time=1
