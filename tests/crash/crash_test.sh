#!/usr/bin/env bash
# Kill -9 during a write storm, three times; after each restart every acknowledged write must
# be there, and documents and change-log entries must match one to one, in order.
set -euo pipefail
EDDY=${1:?usage: crash_test.sh path/to/eddy}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
acked=()
for round in 1 2 3; do
  "$EDDY" crash-writer --data "$work/data" --writers 8 --round "$round" > "$work/acked.$round" &
  pid=$!
  # Wait until the storm is under way (bounded), then kill at a random moment within it.
  for _ in $(seq 1 200); do
    [ "$(grep -c '^I ' "$work/acked.$round" 2>/dev/null || true)" -ge 100 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  sleep "0.$((RANDOM % 9 + 1))"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  acked+=("$work/acked.$round")
  n=$(grep -c '^I ' "$work/acked.$round" || true)
  echo "round $round: killed writer after $n acknowledged inserts"
  [ "$n" -gt 0 ] || { echo "writer made no progress"; exit 1; }
  "$EDDY" crash-verify --data "$work/data" --acked "${acked[@]}"
done
