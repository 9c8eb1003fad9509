#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit tests (GoogleTest via ctest),
# golden files, crash tests and the embedded demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 600
