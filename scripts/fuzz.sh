#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, preset `fuzz`) and runs each for a bounded
# time over its seed corpus (tests/fuzz/corpus/<target>/), two at a time.
#   scripts/fuzz.sh [SECONDS]          seconds per target (default 60, or BALLAST_FUZZ_SECONDS)
#   scripts/fuzz.sh SECONDS TARGET...  only these targets
# A crash, leak, timeout or out-of-memory fails the script; the input that did it is saved as
# artifacts/fuzz/<target>-crash-<sha1> and the command replaying it is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-${BALLAST_FUZZ_SECONDS:-60}}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(fuzz_csv_import fuzz_config fuzz_store_reader fuzz_alpaca_messages fuzz_ib_messages
    fuzz_ops_request)
fi

# The project's packages, plus clang and its libFuzzer runtime.
BALLAST_SETUP=packages BALLAST_EXTRA_PACKAGES="clang libclang-rt-14-dev" scripts/setup.sh

echo "fuzz: configuring and building (preset fuzz)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${targets[@]}"

mkdir -p artifacts/fuzz
status=0
run() {
  local t="$1"
  local work="build/fuzz/corpus/$t"
  mkdir -p "$work"
  # New inputs go to the working corpus; the committed seeds are only read.
  if ! "build/fuzz/tests/fuzz/$t" "$work" "tests/fuzz/corpus/$t" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="artifacts/fuzz/$t-" >"build/fuzz/$t.log" 2>&1; then
    echo "fuzz: $t FAILED; last lines of build/fuzz/$t.log:"
    tail -40 "build/fuzz/$t.log"
    for a in artifacts/fuzz/"$t"-*; do
      [ -e "$a" ] && echo "fuzz: reproduce with: build/fuzz/tests/fuzz/$t $a"
    done
    return 1
  fi
  echo "fuzz: $t ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "build/fuzz/$t.log" | grep -o '[0-9]*$') runs in ${seconds}s)"
}
pids=()
names=()
for t in "${targets[@]}"; do
  run "$t" &
  pids+=($!)
  names+=("$t")
  if ((${#pids[@]} == 2)); then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit "$status"
