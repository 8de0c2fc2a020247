#!/usr/bin/env bash
# bench_api: the REST API under load with wrk (issue #8), on SQLite, keeld on this machine's 2 cores.
#   ATP lookups  GET /api/v1/stock/{sku}    target >= 10,000 requests/s with p99 < 10 ms
#   order intake POST /api/v1/orders        target >= 1,000 creations/s (a new Idempotency-Key each)
# The baseline in the same run is GET /healthz (no key, no database): the ratios say what the API adds.
# keeld runs with server.threads = KEEL_BENCH_THREADS (4): on 2 cores with SQLite, more threads only contend
# (measured 2026-11-27: 32 threads 5,500 ATP/s p99 72 ms; 4 threads 8,000/s p99 21 ms; 2 threads 6,700/s p99 11 ms).
#   bench_api.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$(cd "$1" && pwd); seconds=${2:-10}
command -v wrk >/dev/null || { echo "bench_api: wrk is missing (packaging/install-deps.sh installs it)" >&2; exit 1; }
keel="$build/modules/cli/keel"; keeld="$build/modules/server/keeld"
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
db="sqlite:$work/keel.db"

"$keel" --db "$db" db migrate >/dev/null
{ echo "sku,name"; for i in $(seq 1 1000); do printf 'SKU-%04d,Item %d\n' "$i" "$i"; done; } > "$work/items.csv"
printf 'code,name,country\nWH1,Main,US\n' > "$work/locations.csv"
"$keel" --db "$db" item import "$work/items.csv" >/dev/null
"$keel" --db "$db" location import "$work/locations.csv" >/dev/null
{ echo "sku,location,quantity"; for i in $(seq 1 1000); do printf 'SKU-%04d,WH1,1000000\n' "$i"; done; } > "$work/stock.csv"
"$keel" --db "$db" stock import "$work/stock.csv" >/dev/null
key=$("$keel" --db "$db" --json apikey create --role admin --name bench | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$keeld" -D db.connection="$db" -D server.port="$port" -D server.threads=${KEEL_BENCH_THREADS:-4} -D orders.allocate.interval=0 \
    -D events.dispatch.interval_ms=0 -D log.level=warning >"$work/keeld.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

cat > "$work/atp.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $key"
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", string.format("/api/v1/stock/SKU-%04d", (n % 1000) + 1))
end
LUA
cat > "$work/orders.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $key"
wrk.headers["Content-Type"] = "application/json"
local thread_id = 0
local counter = 0
setup = function(thread) thread_id = thread_id + 1; thread:set("tid", thread_id) end
request = function()
  counter = counter + 1
  local id = string.format("B-%d-%d", tid, counter)
  local body = '{"type":"order","version":1,"channel":"bench","external_id":"' .. id .. '","currency":"USD",' ..
    '"customer":{"id":"C-1","email":"c1@example.com"},"ship_to":{"name":"A","line1":"1 Main St","city":"Springfield",' ..
    '"region":"IL","postal_code":"62701","country":"US"},"lines":[{"sku":"SKU-' .. string.format("%04d", (counter % 1000) + 1) ..
    '","quantity":1,"unit_price":"9.99"}],"payment":{"status":"authorized"}}'
  -- wrk.format's headers replace wrk.headers: all of them, every time
  return wrk.format(nil, nil, {["Authorization"] = "Bearer $key", ["Content-Type"] = "application/json",
                               ["Idempotency-Key"] = id}, body)
end
LUA

run() {  # name, connections, script or "", path
    local name=$1 connections=$2 script=$3 path=$4 out
    if [ -n "$script" ]; then
        out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$script" "http://127.0.0.1:$port$path")
    else
        out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port$path")
    fi
    local rps p50 p99 non2xx
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
    printf '%-32s %10s req/s   p50 %-9s p99 %-9s non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
    if [ -n "$non2xx" ] && [ "$non2xx" != 0 ]; then
        echo "bench_api: $name: $non2xx responses were not 2xx; the figure would count failures" >&2
        exit 1
    fi
    eval "${name//[^a-z]/_}_rps=$rps"
}

echo "bench_api: keeld on SQLite, wrk -t2, ${seconds}s each, 1,000 items"
run "healthz (baseline)" 64 "" /healthz
run "atp lookup" 64 "$work/atp.lua" /api/v1/stock/SKU-0001
run "order creation" 16 "$work/orders.lua" /api/v1/orders
python3 - "$healthz__baseline__rps" "$atp_lookup_rps" "$order_creation_rps" <<'PY'
import sys
base, atp, orders = (float(x) for x in sys.argv[1:])
print(f"ratios to /healthz: atp {atp / base:.2f}x, order creation {orders / base:.3f}x")
print(f"targets: atp >= 10000/s: {'met' if atp >= 10000 else 'NOT met'} ({atp:.0f}/s); "
      f"order creation >= 1000/s: {'met' if orders >= 1000 else 'NOT met'} ({orders:.0f}/s)")
PY
grep -i "error" "$work/keeld.log" | head -3 || true
