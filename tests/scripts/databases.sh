#!/usr/bin/env bash
# Starts and stops the throw-away PostgreSQL and MariaDB servers that Keel's integration tests run against.
#
#   databases.sh start DIR   initialise both servers under DIR on free loopback ports, start them, and write
#                            DIR/databases.env with the connection strings (KEEL_TEST_POSTGRESQL, KEEL_TEST_MARIADB)
#   databases.sh stop DIR    stop both servers and remove DIR
#
# No system service is touched. A server that cannot start fails the command loudly (exit 5) with its log.
set -euo pipefail

pg_bin=/usr/lib/postgresql/15/bin

die() { echo "databases.sh: $*" >&2; exit 5; }

# A port nobody listens on now: read the kernel's socket tables, no extra tools needed.
free_port() {
  local used port
  used=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | while read -r _ local _; do
           [[ $local == *:* ]] && echo $(( 16#${local##*:} ))
         done | sort -un)
  for _ in $(seq 1 200); do
    port=$(( 20000 + RANDOM % 40000 ))
    if ! grep -qx "$port" <<<"$used"; then echo "$port"; return 0; fi
  done
  die "no free TCP port found"
}

wait_for() { # wait_for SECONDS CMD...: poll, never sleep blindly past success
  local deadline=$(( SECONDS + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

start_postgresql() {
  local dir port
  # The server runs as the postgres user, which may not be allowed into the build tree (a clone under /root):
  # its data lives in a private directory under /tmp, remembered in DIR/postgresql.path.
  dir=$(mktemp -d /tmp/keel-postgresql.XXXXXX)
  echo "$dir" >"$1/postgresql.path"
  chown postgres "$dir"
  runuser -u postgres -- "$pg_bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "PostgreSQL initdb failed"; }
  # shared_buffers holds what the benchmarks touch, as for MariaDB below: with the default 128 MB a random ATP lookup
  # over a million balances read pages through the kernel and its p99 was 0.63-0.98 ms, with 512 MB 0.50-0.58 ms
  # (p50 0.24-0.42 -> 0.18-0.20 ms). The server maps the memory but touches only the buffers it fills.
  for attempt in 1 2 3; do
    port=$(free_port)
    if runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
         -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200 -c deadlock_timeout=200ms -c shared_buffers=512MB" \
         start >"$dir/pg_ctl.log" 2>&1; then
      echo "KEEL_TEST_POSTGRESQL=postgresql://postgres@127.0.0.1:$port/postgres" >>"$1/databases.env"
      return 0
    fi
    echo "databases.sh: PostgreSQL did not start on port $port (attempt $attempt)" >&2
  done
  cat "$dir/server.log" >&2 || true
  die "PostgreSQL failed to start"
}

start_mariadb() {
  local dir=$1/mariadb port
  mkdir -p "$dir"
  mariadb-install-db --no-defaults --datadir="$dir/data" --user=root --auth-root-authentication-method=normal \
    --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; die "MariaDB install-db failed"; }
  # The buffer pool holds what the benchmarks touch (make bench: 1,000,000 stock balances are 230 MB of table and
  # index); with 64 MB a random ATP lookup read InnoDB pages from the file and p99 was 1.1-1.2 ms instead of
  # 0.4-0.7 ms. InnoDB maps the pool but only touches the pages it fills, so the tests' small databases cost no more.
  for attempt in 1 2 3; do
    port=$(free_port)
    mariadbd --no-defaults --datadir="$dir/data" --port="$port" --bind-address=127.0.0.1 --socket="$dir/sock" \
      --pid-file="$dir/mariadbd.pid" --user=root --skip-log-bin --innodb-flush-log-at-trx-commit=0 \
      --innodb-buffer-pool-size=512M --max-connections=200 --character-set-server=utf8mb4 \
      --collation-server=utf8mb4_bin >"$dir/server.log" 2>&1 &
    echo $! >"$dir/mariadbd.launcher"
    if wait_for 60 mariadb-admin --no-defaults -h127.0.0.1 -P"$port" -uroot ping; then
      echo "KEEL_TEST_MARIADB=mariadb://root@127.0.0.1:$port/mysql" >>"$1/databases.env"
      echo "$port" >"$dir/port"
      return 0
    fi
    kill "$(cat "$dir/mariadbd.launcher")" 2>/dev/null || true
    echo "databases.sh: MariaDB did not start on port $port (attempt $attempt)" >&2
  done
  cat "$dir/server.log" >&2 || true
  die "MariaDB failed to start"
}

stop_all() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ -f "$dir/postgresql.path" ]; then
    local pg_dir; pg_dir=$(cat "$dir/postgresql.path")
    if [ -f "$pg_dir/data/postmaster.pid" ]; then
      runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    case "$pg_dir" in /tmp/keel-postgresql.*) rm -rf "$pg_dir" ;; esac
  fi
  if [ -f "$dir/mariadb/port" ]; then
    mariadb-admin --no-defaults -h127.0.0.1 -P"$(cat "$dir/mariadb/port")" -uroot shutdown >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/mariadb/mariadbd.launcher" ]; then
    local pid; pid=$(cat "$dir/mariadb/mariadbd.launcher")
    wait_for 30 bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start)
    [ $# -eq 2 ] || { echo "usage: $0 start DIR" >&2; exit 1; }
    stop_all "$2"            # a run that was killed may have left servers behind
    mkdir -p "$2"
    : >"$2/databases.env"
    trap 'stop_all "$2"' ERR
    start_postgresql "$2"
    start_mariadb "$2"
    trap - ERR
    cat "$2/databases.env"
    ;;
  stop)
    [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 1; }
    stop_all "$2"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 1
    ;;
esac
