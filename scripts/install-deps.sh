#!/usr/bin/env bash
# Installs the Debian packages eddy builds and tests with (idempotent; run as root).
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache pkg-config git
  librocksdb-dev libbson-dev libmongoc-dev libasio-dev libssl-dev libcurl4-openssl-dev
  libpcre2-dev libcli11-dev libfmt-dev libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev
  libnats-dev python3 python3-pymongo
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
