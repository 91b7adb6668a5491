#!/usr/bin/env bash
# Start what the test suite talks to over real connections. Safe to run again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# PostgreSQL: the machine's server; start it if it is down.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
fi

# More services are added below by the parts of the suite that need them.
for extra in "$here"/test-services.d/*.sh; do
  [ -e "$extra" ] || continue
  bash "$extra"
done
