#!/usr/bin/env bash
# bench_api: the REST API under load with wrk (issue #8), on SQLite, keeld on this machine's 2 cores.
#   ATP lookups  GET /api/v1/atp/{sku}      target >= 10,000 requests/s with p99 < 10 ms
#   order intake POST /api/v1/orders        target >= 1,000 creations/s (a new Idempotency-Key each; the run checks
#                                           that every answer created an order, so replays cannot inflate the figure)
# The baseline in the same run is GET /healthz (no key, no database): the ratios say what the API adds.
# keeld runs with server.threads = KEEL_BENCH_THREADS (8) and wrk keeps as many connections open
# (KEEL_BENCH_CONNECTIONS, default the same): POCO's HTTP server gives a keep-alive connection a thread for as long as
# it sends requests, so connections beyond server.threads wait in its queue and would measure the queue, not Keel.
# Socket errors (wrk's 2 s timeout included) fail the run like non-2xx answers: the figures would hide them.
#   bench_api.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$(cd "$1" && pwd); seconds=${2:-10}
command -v wrk >/dev/null || { echo "bench_api: wrk is missing (packaging/install-deps.sh installs it)" >&2; exit 1; }
keel="$build/modules/cli/keel"; keeld="$build/modules/server/keeld"
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
db="sqlite:$work/keel.db"
threads=${KEEL_BENCH_THREADS:-8}
connections=${KEEL_BENCH_CONNECTIONS:-$threads}

"$keel" --db "$db" db migrate >/dev/null
{ echo "sku,name"; for i in $(seq 1 1000); do printf 'SKU-%04d,Item %d\n' "$i" "$i"; done; } > "$work/items.csv"
printf 'code,name,country\nWH1,Main,US\n' > "$work/locations.csv"
"$keel" --db "$db" item import "$work/items.csv" >/dev/null
"$keel" --db "$db" location import "$work/locations.csv" >/dev/null
{ echo "sku,location,quantity"; for i in $(seq 1 1000); do printf 'SKU-%04d,WH1,1000000\n' "$i"; done; } > "$work/stock.csv"
"$keel" --db "$db" stock import "$work/stock.csv" >/dev/null
key=$("$keel" --db "$db" --json apikey create --role admin --name bench | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_keeld() {  # extra -D settings
    "$keeld" -D db.connection="$db" -D server.port="$port" -D server.threads=$threads -D orders.allocate.interval=0 \
        -D events.dispatch.interval_ms=0 -D log.level=warning "$@" >"$work/keeld.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
}
start_keeld

cat > "$work/atp.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $key"
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", string.format("/api/v1/atp/SKU-%04d", (n % 1000) + 1))
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
  local id = string.format("%s-%d-%d", os.getenv("KEEL_BENCH_PREFIX") or "B", tid, counter)
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
    [ -n "${BENCH_VERBOSE:-}" ] && echo "$out" >&2
    local rps p50 p99 non2xx
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
    local socket_errors
    socket_errors=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")
    printf '%-32s %10s req/s   p50 %-9s p99 %-9s non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
    if [ -n "$socket_errors" ] && [ "$socket_errors" != 0 ]; then
        echo "bench_api: $name: $socket_errors socket errors or timeouts: $(grep 'Socket errors' <<<"$out")" >&2
        exit 1
    fi
    if [ -n "$non2xx" ] && [ "$non2xx" != 0 ]; then
        echo "bench_api: $name: $non2xx responses were not 2xx; the figure would count failures" >&2
        exit 1
    fi
    eval "${name//[^a-z]/_}_rps=$rps ${name//[^a-z]/_}_p99=$p99"
    requests_done=$(awk '/requests in/ {print $1}' <<<"$out")
}

orders_in_db() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM sales_order WHERE channel = ?", ("bench",)).fetchone()[0])' "$work/keel.db"; }
# Every answer of an order run must have created a new order: a replay (200) would inflate the figure. The requests
# in flight when wrk stops (at most one per connection) create orders that it does not count.
check_created() {  # name, orders before the run
    local created; created=$(($(orders_in_db) - $2))
    if [ "$created" -lt "$requests_done" ] || [ "$created" -gt "$((requests_done + connections))" ]; then
        echo "bench_api: $1: $requests_done answers but $created new orders" >&2
        exit 1
    fi
}

echo "bench_api: keeld on SQLite with $threads server threads, wrk -t2 -c$connections, ${seconds}s each, 1,000 items"
run "healthz (baseline)" "$connections" "" /healthz
run "atp lookup" "$connections" "$work/atp.lua" /api/v1/atp/SKU-0001
before=$(orders_in_db)
run "order creation" "$connections" "$work/orders.lua" /api/v1/orders
check_created "order creation" "$before"
# The peer: every order commits alone (server.group_commit=1), each waiting for its own fsync.
kill "$pid"; wait "$pid" 2>/dev/null || true
start_keeld -D server.group_commit=1
before=$(orders_in_db)
KEEL_BENCH_PREFIX=A run "order creation (each alone)" "$connections" "$work/orders.lua" /api/v1/orders
check_created "order creation (each alone)" "$before"
# The same with db.sqlite.synchronous=normal (a power cut may lose the last commits, never corrupts): with one
# writer at a time, each commit's fsync is most of an order's time under full.
kill "$pid"; wait "$pid" 2>/dev/null || true
start_keeld -D db.sqlite.synchronous=normal
before=$(orders_in_db)
KEEL_BENCH_PREFIX=N run "order creation (sync normal)" "$connections" "$work/orders.lua" /api/v1/orders
check_created "order creation (sync normal)" "$before"
python3 - "$healthz__baseline__rps" "$atp_lookup_rps" "$order_creation_rps" "$atp_lookup_p99" \
    "$order_creation__sync_normal__rps" "$order_creation__each_alone__rps" <<'PY'
import sys
base, atp, orders = (float(x) for x in sys.argv[1:4])
p99 = sys.argv[4]
orders_normal = float(sys.argv[5])
orders_alone = float(sys.argv[6])
scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
unit = next(u for u in ("us", "ms", "s") if p99.endswith(u))
p99_ms = float(p99[: -len(unit)]) * scale[unit]
print(f"ratios to /healthz: atp {atp / base:.2f}x, order creation {orders / base:.3f}x; "
      f"order creation with group commit to each alone: {orders / orders_alone:.2f}x")
atp_met = atp >= 10000 and p99_ms < 10
print(f"targets: atp >= 10000/s with p99 < 10 ms: {'met' if atp_met else 'NOT met'} ({atp:.0f}/s, p99 {p99_ms:.2f} ms); "
      f"order creation >= 1000/s: {'met' if orders >= 1000 else 'NOT met'} ({orders:.0f}/s; "
      f"{orders_normal:.0f}/s with synchronous=normal)")
PY
grep -i "error" "$work/keeld.log" | head -3 || true
