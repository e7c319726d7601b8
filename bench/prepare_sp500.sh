#!/usr/bin/env bash
# Builds build/bench-data/sp500.h5 from the Kaggle S&P 500 file (once) and the equal-weight
# configs over the 470 symbols that have all 1,259 days.
#   bench/prepare_sp500.sh [path/to/all_stocks_5yr.csv.gz]   (default: ../shared/data/sp500_5yr/...)
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-../shared/data/sp500_5yr/all_stocks_5yr.csv.gz}"
bin=./build/release/cli/ballast
work=build/bench-data
mkdir -p "$work"
if [ ! -f "$work/sp500.h5" ]; then
  echo "importing $src"
  /usr/bin/time -f "import: %e s, %M KB peak" "$bin" -q data import --basis split_adjusted --out "$work/sp500.h5" "$src"
fi
"$bin" data info "$work/sp500.h5" | awk 'NR>2 && $4==1259 {print $1}' > "$work/symbols.txt"
targets=$(awk -v n="$(wc -l < "$work/symbols.txt")" '{printf "%s\"%s\": %.17g", (NR>1?", ":""), $1, 1/n}' "$work/symbols.txt")
cat > "$work/sp500-monthly.json" <<JSON
{"name": "sp500 equal weight monthly", "data": {"store": "sp500.h5"},
 "strategy": {"type": "calendar", "frequency": "monthly", "targets": {$targets}}}
JSON
cat > "$work/sp500-threshold.json" <<JSON
{"name": "sp500 equal weight threshold 25%", "data": {"store": "sp500.h5"},
 "strategy": {"type": "threshold", "band": {"relative": 0.25}, "check": "weekly", "targets": {$targets}}}
JSON
universe=$(awk '{printf "%s\"%s\"", (NR>1?", ":""), $1}' "$work/symbols.txt")
# Factor portfolio: the top 20 by a momentum / low-volatility / quality composite, risk parity
# within them; starts a year in so that 12-month momentum has its history.
cat > "$work/sp500-factor.json" <<JSON
{"name": "sp500 factor top 20 risk parity", "data": {"store": "sp500.h5", "start": "2014-03-01",
  "use_history_before_start": true},
 "strategy": {"type": "calendar", "frequency": "monthly", "universe": [$universe],
  "weights": {"model": "factor", "factors": {"momentum": 1, "low_volatility": 0.5, "quality": 0.5},
              "positions": 20, "weighting": {"model": "risk_parity", "lookback": "63D"}}}}
JSON
cat > "$work/sp500-max-sharpe.json" <<JSON
{"name": "sp500 max sharpe monthly", "data": {"store": "sp500.h5", "start": "2014-03-01",
  "use_history_before_start": true},
 "strategy": {"type": "calendar", "frequency": "monthly", "universe": [$universe],
  "weights": {"model": "max_sharpe", "lookback": "252D", "covariance": "ledoit_wolf", "max_weight": 0.1}}}
JSON
echo "symbols with all 1,259 days: $(wc -l < "$work/symbols.txt")"
