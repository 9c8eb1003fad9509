#!/usr/bin/env bash
# Installs the Debian packages eddy builds and tests with (idempotent; run as root).
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache pkg-config git
  librocksdb-dev libbson-dev libmongoc-dev libasio-dev libssl-dev libcurl4-openssl-dev
  libpcre2-dev libcli11-dev libfmt-dev libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev
  libnats-dev python3 python3-pymongo tzdata libedit-dev
  libicu-dev  # ICU: MongoDB collation (locale-aware string comparison) in src/query/collation
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Real clients for the integration tests: the official Node driver and mongosh (npm registry).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -x "$root/tests/drivers/node/node_modules/.bin/mongosh" ] || [ ! -d "$root/tests/drivers/node/node_modules/mongodb" ]; then
  (cd "$root/tests/drivers/node" && npm ci --no-audit --no-fund --loglevel=error)
fi
