#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests, listening on 127.0.0.1 only, with trust auth.
#
# Run it around a command:   scripts/pg.sh cargo nextest run -p socialconnect-store
# or source it from a script: source scripts/pg.sh; trap pg_stop EXIT; pg_start || exit 1
#
# pg_start exports SC_TEST_PG_URL=postgres://postgres@127.0.0.1:<port>/sc_test. If
# SC_TEST_PG_URL is already set, that server is used and nothing is started. Each run gets its
# own data directory and a free port, so parallel runs (several worktrees) do not collide.
# When the default /usr/lib/postgresql/15/bin is missing, postgresql-15 is installed with
# apt-get (as root). Environment: PGBIN (the server's bin directory; when set, nothing is
# installed), PGPORT (the first port tried, default 55432).

_sc_pg_say() { printf 'pg: %s\n' "$*" >&2; }

# Runs a command as the postgres user when we are root (initdb refuses to run as root).
_sc_as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

_sc_port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Starts the server and exports SC_TEST_PG_URL. Returns non-zero (after saying why) on failure;
# call pg_stop afterwards in every case.
pg_start() {
  if [ -n "${SC_TEST_PG_URL:-}" ]; then
    _sc_pg_say "using the server in SC_TEST_PG_URL"
    return 0
  fi
  SC_PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

  if [ ! -x "$SC_PGBIN/initdb" ]; then
    if [ -n "${PGBIN:-}" ]; then
      _sc_pg_say "PGBIN=$PGBIN has no initdb"
      return 1
    fi
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
      _sc_pg_say "no PostgreSQL at $SC_PGBIN, and installing it needs root and apt-get"
      return 1
    fi
    _sc_pg_say "no PostgreSQL at $SC_PGBIN; installing postgresql-15 with apt-get"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15; } >&2; then
      _sc_pg_say "apt-get install postgresql-15 failed"
      return 1
    fi
    if [ ! -x "$SC_PGBIN/initdb" ]; then
      _sc_pg_say "postgresql-15 installed but $SC_PGBIN/initdb is still missing; set PGBIN"
      return 1
    fi
  fi

  if [ "$(id -u)" = 0 ]; then
    if ! command -v runuser >/dev/null; then
      _sc_pg_say "running as root without runuser: cannot drop to the postgres user"
      return 1
    fi
    if ! id postgres >/dev/null 2>&1 &&
      ! useradd --system --no-create-home --shell /usr/sbin/nologin postgres; then
      _sc_pg_say "could not create the postgres system user"
      return 1
    fi
  fi

  if ! SC_PGRUN=$(mktemp -d "${TMPDIR:-/tmp}/sc-pg.XXXXXX"); then
    _sc_pg_say "could not create a temporary directory"
    return 1
  fi
  if [ "$(id -u)" = 0 ] && ! chown postgres: "$SC_PGRUN"; then
    _sc_pg_say "could not hand $SC_PGRUN to the postgres user"
    return 1
  fi
  SC_PGDATA=$SC_PGRUN/data

  if ! _sc_as_pg "$SC_PGBIN/initdb" -D "$SC_PGDATA" -U postgres --auth=trust -E UTF8 --no-locale \
    >"$SC_PGRUN/initdb.log" 2>&1; then
    _sc_pg_say "initdb failed:"
    tail -n 20 "$SC_PGRUN/initdb.log" >&2
    return 1
  fi

  # Another run may hold a port between our check and the server's bind, so retry on a bind
  # failure; any other failure is final.
  local port=${PGPORT:-55432} tries=0
  while :; do
    tries=$((tries + 1))
    if [ "$tries" -gt 50 ]; then
      _sc_pg_say "no free port found from ${PGPORT:-55432} upwards"
      return 1
    fi
    if _sc_port_busy "$port"; then
      port=$((port + 1))
      continue
    fi
    rm -f "$SC_PGRUN/server.log" # so the check below sees this attempt only
    if _sc_as_pg "$SC_PGBIN/pg_ctl" -D "$SC_PGDATA" -l "$SC_PGRUN/server.log" -w -t 30 \
      -o "-p $port -k $SC_PGRUN -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null 2>"$SC_PGRUN/pg_ctl.log"; then
      break
    fi
    if grep -qE 'could not bind|Address already in use|could not create lock file' "$SC_PGRUN/server.log"; then
      port=$((port + 1))
      continue
    fi
    _sc_pg_say "the server did not start:"
    tail -n 20 "$SC_PGRUN/pg_ctl.log" "$SC_PGRUN/server.log" >&2
    return 1
  done

  local psql=psql
  [ -x "$SC_PGBIN/psql" ] && psql=$SC_PGBIN/psql
  if ! "$psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAtc 'CREATE DATABASE sc_test' >&2; then
    _sc_pg_say "could not create the sc_test database"
    return 1
  fi
  export SC_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/sc_test"
  _sc_pg_say "PostgreSQL up: $SC_TEST_PG_URL"
}

# Stops the server pg_start started (if any) and deletes its data. Safe to call more than once.
pg_stop() {
  if [ -n "${SC_PGDATA:-}" ] && [ -f "$SC_PGDATA/postmaster.pid" ]; then
    _sc_as_pg "$SC_PGBIN/pg_ctl" -D "$SC_PGDATA" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      _sc_pg_say "pg_ctl stop failed; data left in $SC_PGRUN"
  fi
  if [ -n "${SC_PGRUN:-}" ] && [ ! -f "$SC_PGDATA/postmaster.pid" ]; then
    rm -rf "$SC_PGRUN"
  fi
  SC_PGRUN= SC_PGDATA=
}

# Executed (not sourced): run the arguments with a server up.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  if [ "$#" -eq 0 ]; then
    echo "usage: $0 <command> [args...]" >&2
    exit 2
  fi
  trap pg_stop EXIT
  trap 'exit 130' INT TERM
  pg_start || exit 1
  "$@"
fi
