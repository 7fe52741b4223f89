#!/usr/bin/env bash
# pg-test.sh — runs a command against a throwaway PostgreSQL server.
#
#   bash scripts/pg-test.sh COMMAND [ARG…]
#
# initdb into a temporary folder (trust authentication, UTF-8, C collation so that ORDER BY sorts
# like SQLite's byte order), a server on a free loopback port with its socket in that folder,
# a database nsdb_test; COMMAND runs with NSDB_DATABASE_URL=postgresql://postgres@127.0.0.1:PORT/
# nsdb_test (the e2e harness creates one more database per test class from it). The server is
# stopped and the folder removed however COMMAND ends; the exit status is COMMAND's.
# PG_BIN selects the server binaries (default: the newest /usr/lib/postgresql/*/bin).
# Run as root, the server runs as the user `postgres` (created by Debian's postgresql package).
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG…]" >&2
    exit 2
fi

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "pg-test: PostgreSQL server binaries not found (set PG_BIN)" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nsdb-pg.XXXXXX")
as_server_user=()
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        echo "pg-test: running as root needs the user postgres to run the server" >&2
        rmdir "$tmp"
        exit 2
    fi
    chown postgres: "$tmp"
    as_server_user=(runuser -u postgres --)
fi

stop_server() {
    if [ -f "$tmp/data/postmaster.pid" ]; then
        "${as_server_user[@]}" "$PG_BIN/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
}
trap stop_server EXIT
trap 'exit 130' INT TERM

"${as_server_user[@]}" "$PG_BIN/initdb" -D "$tmp/data" --auth=trust --username=postgres \
    --encoding=UTF8 --locale=C >"$tmp/initdb.log" 2>&1 || {
    cat "$tmp/initdb.log" >&2
    exit 2
}
mkdir -p "$tmp/sock"
chown --reference="$tmp" "$tmp/sock"

# A port that nothing listens on; pg_ctl may still lose a race for it, hence the retries.
port_is_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
started=0
for _ in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 30000))
    port_is_free "$port" || continue
    # fsync off: the data is thrown away, and the suite runs several times faster.
    if "${as_server_user[@]}" "$PG_BIN/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $tmp/sock -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null; then
        started=1
        break
    fi
done
if [ "$started" -ne 1 ]; then
    echo "pg-test: the PostgreSQL server did not start:" >&2
    tail -n 20 "$tmp/server.log" >&2 || true
    exit 2
fi

export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
psql -X -q -d postgres -c "CREATE DATABASE nsdb_test" >/dev/null
export NSDB_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/nsdb_test"
echo "pg-test: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on port $port" >&2

set +e
"$@"
rc=$?
set -e
exit "$rc"
