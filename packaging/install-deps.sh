#!/usr/bin/env bash
# Installs every Debian 12 package Keel needs to build, test and run.
# Idempotent: installs only what is missing, so a second run does nothing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache git ca-certificates
  libpoco-dev
  libboost-dev libboost-filesystem-dev libboost-test-dev
  unixodbc unixodbc-dev libsqliteodbc odbc-postgresql odbc-mariadb
  libsqlite3-dev  # the SQLite library sqlite3odbc uses, configured by Keel before its first connection
  libxerces-c-dev libssl-dev
  sqlite3 postgresql mariadb-server mariadb-client
  curl procps
  ledger hledger
  clang libclang-rt-14-dev
  python3-jsonschema
  openssl lintian adduser
  wrk
  chromium  # the dashboard's browser test (tests/ui)
)

# Debian registers psqlODBC with CommLog=1 in /etc/odbcinst.ini: every process that connects to PostgreSQL then leaves a
# /tmp/psqlodbc_<program>_<user><pid>.log behind ("PQfinish: ..."), whatever its connection string says (a `make check`
# left over a thousand). Turned off here for the machine's psqlODBC drivers (the only ones with that key); README
# ("Operations") says the same for a server.
quiet_psqlodbc() {
  grep -q '^CommLog=1$' /etc/odbcinst.ini 2>/dev/null || return 0
  if [ "$(id -u)" -eq 0 ]; then
    sed -i 's/^CommLog=1$/CommLog=0/' /etc/odbcinst.ini
    echo "install-deps: psqlODBC's CommLog turned off in /etc/odbcinst.ini (it left a log file per process in /tmp)"
  else
    echo "install-deps: /etc/odbcinst.ini has CommLog=1 (a log file per process in /tmp); run as root to turn it off" >&2
  fi
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js and npm (the node-x12 differential test, the dashboard test's puppeteer-core): by command, since a machine
# may have them from NodeSource's nodejs package (npm included), where Debian's separate npm package would conflict.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages (and node, npm) present"
  quiet_psqlodbc
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo $0) to install them" >&2
  exit 5
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A test machine must not start database services of its own: the test scripts start throw-away servers.
policy_added=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  policy_added=1
fi
trap '[ "$policy_added" -eq 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
quiet_psqlodbc
