#!/usr/bin/env bash
# The import benchmarks of issue 11 (item 4), run by bench/run.sh (sections import2, importpg,
# importload) and usable alone:
#
#   bash bench/import_load.sh two-per-inst OUT   # 2 users per institution on a non-empty database
#   bash bench/import_load.sh load OUT           # logins and registrations during a 100k import
#
# On SQLite by default; with NSDB_DATABASE_URL set (as `bash scripts/pg-test.sh bash
# bench/import_load.sh …` sets it) every server gets a fresh PostgreSQL database of its own on
# that server. Each scenario starts its own `nsdb serve` (release binary, --threads 2) on a fresh
# data folder, with municipality A (131016) and a muni_staff user logged in, and stops it after.
#   two-per-inst: CSVs of 2 users per institution (bench/inst_bench.py); a 10,000-row file of
#     other institutions is imported first (the database is not empty), then 10,000 rows (a fresh
#     folder) and 100,000 rows (50,000 new institutions; another fresh folder, BENCH_IMPORT2_REPEAT
#     times, default 3, each just after a floor, sqlite3 .import --csv of the 100,000-row file: the
#     fastest of each counts), the server's VmHWM after the 100k import, and
#     bytes per user (SQLite: the database file + its WAL; PostgreSQL: pg_database_size) before
#     and after it.
#   load: municipality B (271004) gets two muni_staff users; while A imports 100,000 rows (2 per
#     institution) B logs in and registers one user at a time (bench/import_load.py).
# Results go to OUT as shell assignments (IL_…) for run.sh's summary; progress to stdout.
# Imports are timed by inst_bench.py import, which also follows a background import's progress page.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NSDB="${NSDB_BIN:-$ROOT/nsdb}"
PASSWORD='correct horse battery staple 2026'
PG_URL="${NSDB_DATABASE_URL:-}"

die() { echo "import_load: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: $0 two-per-inst|load OUT"
VERB="$1"; OUT="$2"
[ -x "$NSDB" ] || die "$NSDB not found (run make nsdb)"
command -v sqlite3 >/dev/null || die "the sqlite3 CLI is not installed"
[ -z "$PG_URL" ] || command -v psql >/dev/null || die "psql not installed"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/nsdb-import-load-XXXXXX")"
PID=""
stop_pid() { # pid: SIGTERM, then SIGKILL after 5 s
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
cleanup() { stop_pid "$PID"; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

py() { python3 -c "$@"; }
jget() { py 'import json,sys; v=json.load(sys.stdin); [v := v[k] for k in sys.argv[1].split(".")]; print(json.dumps(v) if isinstance(v,(dict,list)) else v)' "$1" <<<"$2"; }
hwm_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
free_port() { py 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_s() { date +%s.%N; }
emit() { printf '%s=%q\n' "$1" "$2" >>"$OUT"; } # name value: one result for run.sh
DB_KIND=SQLite; [ -z "$PG_URL" ] || DB_KIND=PostgreSQL
IMPORT2_REPEAT="${BENCH_IMPORT2_REPEAT:-3}"

# --- one server on a fresh data folder (and, on PostgreSQL, a fresh database) ------------------
# Sets URL, DATA, LOG, DB_URL, PID and SESSION (muni_staff of A, password changed).
N_DB=0
server_start() { # name
  local dir="$TMP/$1" port u
  mkdir -p "$dir"
  DATA="$dir/data"; LOG="$dir/server.log"; DB_URL=""
  if [ -n "$PG_URL" ]; then
    N_DB=$((N_DB + 1))
    psql -X -q -d "$PG_URL" -c "CREATE DATABASE nsdb_bench_$N_DB" >/dev/null
    DB_URL="${PG_URL%/*}/nsdb_bench_$N_DB"
  fi
  port="$(free_port)"; URL="http://127.0.0.1:$port"
  "$NSDB" serve --data "$DATA" ${DB_URL:+--database "$DB_URL"} --listen "127.0.0.1:$port" --threads 2 \
    >"$LOG" 2>&1 &
  PID=$!
  for _ in $(seq 300); do
    if [ "$(curl -s -m 1 "$URL/healthz" 2>/dev/null || true)" = ok ]; then break; fi
    kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; die "nsdb serve ($1) exited"; }
    sleep 0.1
  done
  [ "$(curl -s -m 2 "$URL/healthz")" = ok ] || { cat "$LOG" >&2; die "server ($1) not healthy at $URL"; }
  cli municipality add --code 131016 --name 千代田区 >/dev/null
  u="$(cli user add --role muni_staff --municipality 131016 --name 'ベンチ 職員' --json)"
  SESSION="$(python3 bench/client.py setup "$URL" "$(jget user_id "$u")" "$(jget initial_password "$u")" "$PASSWORD")"
}
server_stop() { stop_pid "$PID"; PID=""; }
cli() { "$NSDB" "$@" --data "$DATA" ${DB_URL:+--database "$DB_URL"}; }
sql() { # query → one value, on the current server's database
  if [ -n "$DB_URL" ]; then psql -X -q -A -t -d "$DB_URL" -c "$1"
  else sqlite3 "file:$DATA/nsdb.sqlite3?mode=ro" "$1"; fi
}
users_in() { sql "SELECT COUNT(*) FROM users WHERE role IN ('doctor','inst_manager')"; }
db_bytes() { # the database's size: SQLite file + WAL, or pg_database_size
  if [ -n "$DB_URL" ]; then sql "SELECT pg_database_size(current_database())"
  else cat "$DATA/nsdb.sqlite3" "$DATA/nsdb.sqlite3-wal" 2>/dev/null | wc -c; fi
}
bytes_per_user() { py 'import sys; print(round(int(sys.argv[1]) / int(sys.argv[2])))' "$(db_bytes)" "$(sql 'SELECT COUNT(*) FROM users')"; }
import_csv() { # csv expected_users_after → the JSON line of inst_bench.py import; dies unless accepted
  local out got
  out="$(python3 bench/inst_bench.py import "$URL" "$SESSION" "$1")" \
    || { echo "  $out" >&2; tail -5 "$LOG" >&2; die "import of $1 refused"; }
  got="$(users_in)"
  [ "$got" = "$2" ] || die "after importing $1: $got institution users, expected $2"
  echo "$out"
}

# --- two-per-inst -------------------------------------------------------------------------------
floor_once() { # → seconds of one sqlite3 .import --csv of the 100k file into a fresh file
  local t0 t1
  rm -f "$TMP/floor.sqlite3"
  t0="$(now_s)"
  sqlite3 "$TMP/floor.sqlite3" ".import --csv $TMP/rows-100000.csv t"
  t1="$(now_s)"
  [ "$(sqlite3 "$TMP/floor.sqlite3" 'SELECT COUNT(*) FROM t')" = 100000 ] || die "sqlite3 .import did not read 100,000 rows"
  py 'import sys; print(f"{float(sys.argv[2])-float(sys.argv[1]):.3f}")' "$t0" "$t1"
}

two_per_inst() {
  local out t0 t1
  echo "import_load: 2 users per institution on a non-empty $DB_KIND database"
  echo "  prefill: $(python3 bench/inst_bench.py csv 10000 "$TMP/prefill.csv" 500001 2)"
  echo "  10k:     $(python3 bench/inst_bench.py csv 10000 "$TMP/rows-10000.csv" 1 2)"
  echo "  100k:    $(python3 bench/inst_bench.py csv 100000 "$TMP/rows-100000.csv" 1 2)"
  emit IL_CSV_BYTES "$(wc -c <"$TMP/rows-100000.csv")"

  server_start two-10k
  out="$(import_csv "$TMP/prefill.csv" 10000)"; echo "  prefill, 10,000 rows: $out"
  out="$(import_csv "$TMP/rows-10000.csv" 20000)"; echo "  POST /inst-users/import, 10,000 rows: $out"
  emit IL_T10K "$(jget seconds "$out")"
  server_stop

  # The 100k import IMPORT2_REPEAT times, each on a fresh folder (and database), each just after
  # a floor (sqlite3 .import of the same file into a fresh file), so that a floor and its import
  # see the machine in the same state: the fastest import and the fastest floor count (on a
  # shared machine noise only adds time), and each pair's ratio is printed too. RSS and sizes
  # are those of the last import.
  local best="" floor="" ratios="" r f
  for r in $(seq "$IMPORT2_REPEAT"); do
    f="$(floor_once)"
    floor="$(py 'import sys; v=[float(x) for x in sys.argv[1:] if x]; print(f"{min(v):.3f}")' "$floor" "$f")"
    server_start "two-100k-$r"
    out="$(import_csv "$TMP/prefill.csv" 10000)"; echo "  prefill, 10,000 rows: $out"
    emit IL_USERS_BEFORE "$(sql 'SELECT COUNT(*) FROM users')"
    emit IL_DB_BEFORE "$(db_bytes)"; emit IL_BPU_BEFORE "$(bytes_per_user)"
    emit IL_HWM0_KB "$(hwm_kb "$PID")"
    [ -n "$PG_URL" ] || [ "$r" != 1 ] || sqlite3 "$DATA/nsdb.sqlite3" ".backup $TMP/prefilled.sqlite3"
    out="$(import_csv "$TMP/rows-100000.csv" 110000)"
    echo "  POST /inst-users/import, 100,000 rows ($r of $IMPORT2_REPEAT; floor just before: $f s): $out"
    best="$(py 'import sys; v=[float(x) for x in sys.argv[1:] if x]; print(f"{min(v):.3f}")' "$best" "$(jget seconds "$out")")"
    ratios="$ratios${ratios:+ }$(py 'import sys; print(f"{float(sys.argv[1])/float(sys.argv[2]):.1f}")' "$(jget seconds "$out")" "$f")"
    emit IL_HWM_KB "$(hwm_kb "$PID")"
    emit IL_USERS_AFTER "$(sql 'SELECT COUNT(*) FROM users')"
    emit IL_DB_AFTER "$(db_bytes)"; emit IL_BPU_AFTER "$(bytes_per_user)"
    server_stop
  done
  emit IL_T100K "$best"
  emit IL_REPEAT "$IMPORT2_REPEAT"
  emit IL_FLOOR "$floor"
  emit IL_PAIR_RATIOS "$ratios"
  echo "  floor: sqlite3 .import --csv, 100,000 rows (fastest of $IMPORT2_REPEAT)"
  [ -n "$PG_URL" ] || schema_floor
}

# The part of the import that is SQLite's own work on nsdb's schema: the 100,000 rows put into
# the users table (its unique user IDs, the search's covering indexes, …) of the database as it
# was before the import, by plain SQL in one transaction (sqlite3, the file already .import-ed
# into a table t, untimed). No registrations, audit records, institutions or name index; the
# import writes all of those too, in chunks.
schema_floor() {
  local t0 t1 users
  sqlite3 "$TMP/prefilled.sqlite3" ".import --csv $TMP/rows-100000.csv t"
  t0="$(now_s)"
  sqlite3 "$TMP/prefilled.sqlite3" "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
    PRAGMA cache_size=-16384; BEGIN;
    INSERT INTO users (user_id, role, name, name_kana, email, category, municipality_id,
                       institution_id, doctor_number, specialty, name_search,
                       initial_password_sealed, batch_id, created_by, initial_password_by,
                       created_at, updated_at)
    SELECT upper(hex(randomblob(6))), CASE \"ユーザ種別\" WHEN '責任者' THEN 'inst_manager' ELSE 'doctor' END,
           \"氏名\", \"氏名カナ\", \"メールアドレス\",
           CASE \"難病/小慢\" WHEN '小慢' THEN 'shoman' WHEN '両方' THEN 'both' ELSE 'nanbyo' END,
           (SELECT municipality_id FROM users WHERE batch_id IS NOT NULL LIMIT 1),
           1000000 + t.rowid / 2, NULLIF(\"指定医番号\", ''), \"診療科\",
           replace(\"氏名\", ' ', '') || replace(\"氏名カナ\", ' ', ''), randomblob(56),
           (SELECT MAX(id) FROM import_batches), 1, 1, unixepoch(), unixepoch()
    FROM t;
    COMMIT; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  t1="$(now_s)"
  users="$(sqlite3 "$TMP/prefilled.sqlite3" 'SELECT COUNT(*) FROM users')"
  [ "$users" -ge 110000 ] || die "the schema floor inserted too few users ($users)"
  emit IL_SCHEMA_FLOOR "$(py 'import sys; print(f"{float(sys.argv[2])-float(sys.argv[1]):.3f}")' "$t0" "$t1")"
  echo "  users table alone: INSERT … SELECT of the 100,000 rows into the database before the import"
}

# --- load ---------------------------------------------------------------------------------------
load() {
  local login staff out
  echo "import_load: logins and registrations of B during A's 100,000-row import on $DB_KIND"
  echo "  $(python3 bench/inst_bench.py csv 100000 "$TMP/rows-100000.csv" 1 2)"
  server_start load
  cli municipality add --code 271004 --name 大阪市 >/dev/null
  login="$(cli user add --role muni_staff --municipality 271004 --name 'ベンチ 大阪' --json)"
  python3 bench/client.py setup "$URL" "$(jget user_id "$login")" "$(jget initial_password "$login")" "$PASSWORD" >/dev/null
  staff="$(cli user add --role muni_staff --municipality 271004 --name 'ベンチ 登録' --json)"
  staff="$(python3 bench/client.py setup "$URL" "$(jget user_id "$staff")" "$(jget initial_password "$staff")" "$PASSWORD")"
  out="$(python3 bench/import_load.py "$URL" "$SESSION" "$TMP/rows-100000.csv" "$(jget user_id "$login")" "$PASSWORD" "$staff")" \
    || { echo "  $out" >&2; tail -5 "$LOG" >&2; die "the import under load was refused"; }
  echo "  $out"
  emit IL_LOAD_JSON "$out"
  emit IL_LOAD_USERS "$(users_in)"
  server_stop
}

: >"$OUT"
emit IL_DB_KIND "$DB_KIND"
case "$VERB" in
  two-per-inst) two_per_inst ;;
  load) load ;;
  *) die "unknown verb $VERB (two-per-inst or load)" ;;
esac
