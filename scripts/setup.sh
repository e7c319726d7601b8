#!/usr/bin/env bash
# Installs what ballast needs from Debian's packages (only what is missing; needs root or sudo),
# configures and builds with CMake + Ninja, and imports the bundled sample store.
#   BALLAST_PRESET=release|dev|asan   (default release: optimised, warnings as errors)
#   BALLAST_SETUP=packages             install the packages only (with BALLAST_EXTRA_PACKAGES)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${BALLAST_PRESET:-release}"

packages=(g++ cmake ninja-build ccache git libboost-dev libhdf5-dev hdf5-tools libsimdjson-dev
  libeigen3-dev libtbb-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev pkg-config libxlsxwriter-dev python3-openpyxl chromium libssl-dev
  libsqlite3-dev sqlite3 ca-certificates openssl prometheus)
read -r -a extra <<<"${BALLAST_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${BALLAST_SETUP:-}" = "packages" ]; then exit 0; fi

echo "setup: configuring and building (preset $preset)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"

store=data/samples/etfs.h5
if [ ! -f "$store" ] || [ -n "$(find data/samples/etfs scripts/setup.sh -newer "$store" -print -quit)" ]; then
  "./build/$preset/cli/ballast" data import --force --basis adjusted --out "$store" data/samples/etfs
fi
# The S&P 500 sample (40 stocks, split-adjusted OHLCV: price return) with SPY (total return) as
# the benchmark. A store labelled before the labels were truthful is re-imported.
store=data/samples/sp500.h5
if [ ! -f "$store" ] || [ -n "$(find data/samples/sp500 data/samples/etfs/SPY.csv.gz scripts/setup.sh -newer "$store" -print -quit)" ]; then
  "./build/$preset/cli/ballast" data import --force --basis split_adjusted --basis SPY=adjusted \
    --out "$store" data/samples/sp500/sp500_subset.csv.gz data/samples/etfs/SPY.csv.gz
fi
