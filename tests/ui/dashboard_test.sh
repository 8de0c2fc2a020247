#!/usr/bin/env bash
# The operations dashboard (/ui) in a real headless browser: seeds a SQLite database through the keel CLI and the REST
# API, starts keeld on a free port, installs puppeteer-core (pinned) from the npm registry into a temporary folder and
# drives Debian's chromium with it (dashboard_test.js). Fails on a console error, a failed or external request, a
# number on a page that differs from the API's, or a release that did not happen.
#   dashboard_test.sh KEEL_BINARY KEELD_BINARY     (KEEL_UI_SCREENSHOTS=DIR keeps a screenshot of every page)
set -euo pipefail
keel=$1; keeld=$2
here=$(cd "$(dirname "$0")" && pwd)
chromium=${KEEL_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "no chromium at $chromium: apt-get install chromium (packaging/install-deps.sh)" >&2; exit 1; }
work=$(mktemp -d)
daemon=""
cleanup() {
  if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$work" && npm install --silent --no-audit --no-fund --prefix "$work" puppeteer-core@24.10.0 >/dev/null)

db="sqlite:$work/keel.db"
"$keel" --db "$db" db migrate >/dev/null
key() { "$keel" --db "$db" --json apikey create --role "$1" --name "ui-$1" | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).key))'; }
export KEEL_KEY_ADMIN=$(key admin) KEEL_KEY_OPERATIONS=$(key operations) KEEL_KEY_READONLY=$(key read-only)

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
# No background allocation: the numbers on the pages must not move while the test compares them with the API.
"$keeld" -D db.connection="$db" -D server.port="$port" -D orders.allocate.interval=0 >"$work/keeld.log" 2>&1 &
daemon=$!
for _ in $(seq 1 100); do
  if node -e "fetch('http://127.0.0.1:$port/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then break; fi
  kill -0 "$daemon" 2>/dev/null || { cat "$work/keeld.log" >&2; exit 1; }
  sleep 0.1
done

set +e
KEEL_BASE="http://127.0.0.1:$port" KEEL_CHROMIUM="$chromium" NODE_PATH="$work/node_modules" \
  node "$here/dashboard_test.js"
status=$?
set -e
[ "$status" -eq 0 ] || { echo "--- keeld log" >&2; tail -50 "$work/keeld.log" >&2; }
exit "$status"
