#!/usr/bin/env bash
# Installs node-x12 (pinned) from the npm registry into a temporary folder and compares Keel's X12 reader with it on
# every valid interchange of the shared test data that node-x12 can read. Fails on any disagreement, or when fewer
# than MIN_COMPARED files could be compared (so a broken install cannot pass silently).
#   node_x12_differential.sh KEEL_BINARY TESTDATA_X12_VALID_DIR [MIN_COMPARED]
set -euo pipefail
keel=$1; valid=$2; min=${3:-15}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm install --silent --no-audit --no-fund --prefix "$work" node-x12@1.7.1 >/dev/null)
compared=0; skipped=0; failed=0
for file in "$valid"/*.edi; do
  "$keel" edi parse "$file" > "$work/keel.json"
  set +e
  node "$here/node_x12_compare.js" "$work/node_modules" "$file" "$work/keel.json"
  status=$?
  set -e
  case $status in
    0) compared=$((compared + 1)) ;;
    3) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1)) ;;
  esac
done
echo "node-x12 differential: $compared files agree, $failed differ, $skipped unreadable by node-x12"
[ "$failed" -eq 0 ] && [ "$compared" -ge "$min" ]
