#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time: a fresh writable corpus first, then the read-only seed directories
# (libFuzzer writes new inputs only to the first). Fails on any crash, leak, timeout or out-of-memory. A fixed seed
# makes a run in CI repeatable; longer runs with other seeds are for hunting (docs/edi.md, Fuzzing).
#   run.sh TARGET SECONDS SEED_DIR...
set -euo pipefail
target=$1; seconds=$2; shift 2
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
# Not exec: the shell must outlive the fuzzer for its EXIT trap to remove the corpus (with exec, every run left a
# directory of about a thousand inputs in /tmp).
status=0
"$target" "$corpus" "$@" -max_total_time="$seconds" -seed=1 -timeout=10 -rss_limit_mb=1024 -max_len=65536 \
  -print_final_stats=1 || status=$?
exit "$status"
