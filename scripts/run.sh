#!/usr/bin/env bash
# Quick start: install what is missing, build, and start eddy with its data in ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
mkdir -p data
exec build/tools/eddy/eddy serve --data ./data "$@"
