#!/usr/bin/env bash
# Runs a command with throw-away PostgreSQL and MariaDB servers (KEEL_TEST_POSTGRESQL, KEEL_TEST_MARIADB
# exported) and stops them afterwards, whatever the command's outcome. Used by `make bench`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/keel-databases.XXXXXX)
trap '"$here/databases.sh" stop "$dir"' EXIT
"$here/databases.sh" start "$dir" >/dev/null
set -a
# shellcheck disable=SC1091
source "$dir/databases.env"
set +a
"$@"
