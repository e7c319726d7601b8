#!/usr/bin/env bash
# Sweep benchmark: 1,000 variants over the S&P 500 panel (470 x 1,259): the monthly calendar and
# the weekly-checked 25% threshold portfolio, each with 500 slippage settings, summaries only.
# Prints wall time, peak memory and bar-events/s on 1 and 2 threads, and peak memory for 100 vs
# 1,000 variants (it must not grow with the number of variants beyond their summaries).
#   bench/sweep.sh [path/to/all_stocks_5yr.csv.gz]
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/prepare_sp500.sh "$@" >/dev/null
bin=./build/release/cli/ballast
work=build/bench-data
make_suite() {  # $1 = number of slippage values per base
  local values
  values=$(seq -s, 0 $(($1 - 1)))
  cat > "$work/sweep-$1.json" <<JSON
{"name": "sweep-$(( $1 * 2 ))", "base": [{"label": "monthly", "config": "sp500-monthly.json"},
                                         {"label": "threshold", "config": "sp500-threshold.json"}],
 "grid": {"execution.slippage_bps": [$values]}}
JSON
}
make_suite 500
make_suite 50
bars=$((470 * 1259))
for threads in 1 2; do
  out=$( { /usr/bin/time -f "%e %M" "$bin" -q suite "$work/sweep-500.json" --summaries-only --threads $threads \
           --out "$work/sweep-out" --force; } 2>&1 | tail -1)
  set -- $out
  echo "1,000 variants, $threads thread(s): $1 s, peak $2 KB, $(awk -v s="$1" -v b=$bars 'BEGIN{printf "%.1f", 1000*b/s/1e6}') M bar-events/s"
done
out=$( { /usr/bin/time -f "%e %M" "$bin" -q suite "$work/sweep-50.json" --summaries-only --threads 2 \
         --out "$work/sweep-out" --force; } 2>&1 | tail -1)
set -- $out
echo "100 variants, 2 threads: $1 s, peak $2 KB"
