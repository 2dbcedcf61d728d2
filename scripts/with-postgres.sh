#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL 15 cluster, then stops it and deletes it.
#
#   bash scripts/with-postgres.sh npx vitest run test/store
#
# Exports to the command:
#   DATABASE_URL_TEST  postgres://postgres@127.0.0.1:<port>/voicebot_test
#   PGDATA_TEST        the cluster's data folder
#   PG_CTL_USER        the user pg_ctl must run as ("postgres" when we are root, else us)
# The cluster listens on 127.0.0.1 only, on a free port, with trust auth: tests only.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

log() { echo "with-postgres: $*" >&2; }

if ! command -v initdb >/dev/null || ! command -v pg_ctl >/dev/null; then
  if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    export PATH="/usr/lib/postgresql/15/bin:$PATH"
  elif [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    log "initdb/pg_ctl not found; installing postgresql-15 with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
    export PATH="/usr/lib/postgresql/15/bin:$PATH"
  else
    log "initdb/pg_ctl not found: install PostgreSQL 15 (Debian: apt-get install postgresql-15)"
    exit 1
  fi
fi

# initdb refuses to run as root: run the server as the "postgres" user then.
if [ "$(id -u)" -eq 0 ]; then
  PG_CTL_USER=postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  PG_CTL_USER="$(id -un)"
  as_pg() { "$@"; }
fi

base="$(mktemp -d "${TMPDIR:-/tmp}/voicebot-pg.XXXXXX")"
data="$base/data"
cleanup() {
  local status=$?
  # Stop this cluster and any private one a test made beside it (test/helpers/postgres.ts).
  for pid_file in "$base"/*/postmaster.pid "$base"/*/*/postmaster.pid; do
    [ -f "$pid_file" ] || continue
    as_pg pg_ctl -D "$(dirname "$pid_file")" stop -m immediate -w >/dev/null 2>&1 || true
  done
  rm -rf "$base"
  log "stopped and removed the cluster"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$base"; fi
chmod 700 "$base"

port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"

as_pg initdb -D "$data" -A trust -U postgres --no-sync >"$base/initdb.log" 2>&1 || {
  cat "$base/initdb.log" >&2
  log "initdb failed"
  exit 1
}
# Settings live in the config file so a bare "pg_ctl start" (the outage test) brings back the same
# server. Durability is off: a test cluster is thrown away anyway.
cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$base'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF

log "starting PostgreSQL $(postgres --version | awk '{print $3}') on 127.0.0.1:$port ($data)"
as_pg pg_ctl -D "$data" -l "$base/server.log" -w -t 30 start >/dev/null || {
  cat "$base/server.log" >&2
  log "the server did not start"
  exit 1
}
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 -p "$port" -U postgres && break
  sleep 0.2
done
psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE voicebot_test' >/dev/null

export DATABASE_URL_TEST="postgres://postgres@127.0.0.1:$port/voicebot_test"
export PGDATA_TEST="$data"
export PG_CTL_USER
log "DATABASE_URL_TEST=$DATABASE_URL_TEST"

set +e
"$@"
status=$?
set -e
exit "$status"
