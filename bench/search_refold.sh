#!/bin/bash
# bench/search_refold.sh — the start-up re-keying of stored search keys (issue 12, item 9: the
# table of name variants in src/domain/itaiji.c) at 200,000 institution users: two 100,000-row
# imports (bench/inst_bench.py) into a fresh SQLite data folder, then the database is put back as
# a program without the fold wrote it (a third of the users with 高/崎/斎/辺 spelt 髙/﨑/齋/邊 in
# their keys, the name-pair index rebuilt from those keys, no fingerprint), and `nsdb migrate`
# (which opens the database as every start does) is timed twice: the re-keying, then nothing to
# do. Checks that no variant is left and that the index equals a rebuild. Needs sqlite3, curl.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
NSDB="${NSDB_BIN:-$ROOT/nsdb}"
T="$(mktemp -d "${TMPDIR:-/tmp}/nsdb-refold-XXXXXX")"
PID=""
trap '[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; rm -rf "$T"' EXIT
D="$T/data"; DB="$D/nsdb.sqlite3"
python3 bench/inst_bench.py csv 100000 "$T/a.csv" 1 >/dev/null
python3 bench/inst_bench.py csv 100000 "$T/b.csv" 10001 >/dev/null
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$NSDB" serve --data "$D" --listen "127.0.0.1:$port" --threads 2 >"$T/server.log" 2>&1 &
PID=$!
for _ in $(seq 150); do [ "$(curl -s -m 1 "http://127.0.0.1:$port/healthz" || true)" = ok ] && break; sleep 0.1; done
"$NSDB" municipality add --data "$D" --code 131016 --name 千代田区 >/dev/null
u="$("$NSDB" user add --data "$D" --role muni_staff --municipality 131016 --name 'ベンチ 職員' --json)"
get() { python3 -c 'import json,sys; print(json.loads(sys.argv[2])[sys.argv[1]])' "$1" "$u"; }
S="$(python3 bench/client.py setup "http://127.0.0.1:$port" "$(get user_id)" "$(get initial_password)" \
  "bench refold password 2026")"
for f in a b; do python3 bench/inst_bench.py import "http://127.0.0.1:$port" "$S" "$T/$f.csv" >/dev/null; done
kill -TERM "$PID"; wait "$PID" || true; PID=""
VARIANT="name_search LIKE '%髙%' OR name_search LIKE '%﨑%' OR name_search LIKE '%齋%' OR name_search LIKE '%邊%'"
REBUILD="WITH RECURSIVE g(id, m, s, i) AS (SELECT id, municipality_id, name_search, 1 FROM users
  WHERE role IN ('doctor','inst_manager') AND municipality_id IS NOT NULL AND name_search <> ''
  UNION ALL SELECT id, m, s, i + 1 FROM g WHERE i < length(s))
  SELECT m, gram, s, COUNT(DISTINCT id) FROM (SELECT m, substr(s, i, 1) AS gram, s, id FROM g
  UNION ALL SELECT m, substr(s, i, 2), s, id FROM g WHERE i < length(s)) GROUP BY m, gram, s"
sqlite3 "$DB" "UPDATE users SET name_search = replace(replace(replace(replace(name_search,
  '高', '髙'), '崎', '﨑'), '斎', '齋'), '辺', '邊') WHERE role IN ('doctor','inst_manager') AND id % 3 = 0;
  DELETE FROM user_grams; INSERT INTO user_grams (municipality_id, gram, name_search, users) $REBUILD;
  DELETE FROM search_fold;"
echo "users: $(sqlite3 "$DB" 'SELECT COUNT(*) FROM users'); keys with a variant: $(sqlite3 "$DB" \
  "SELECT COUNT(*) FROM users WHERE $VARIANT") users, $(sqlite3 "$DB" \
  "SELECT COUNT(DISTINCT name_search) FROM users WHERE $VARIANT") distinct"
/usr/bin/time -o "$T/t1" -f "start with re-keying: %e s, peak RSS %M KB" "$NSDB" migrate --data "$D" \
  >/dev/null 2>"$T/migrate.log" || { cat "$T/migrate.log" >&2; exit 1; }
/usr/bin/time -o "$T/t2" -f "start with nothing to do: %e s, peak RSS %M KB" "$NSDB" migrate --data "$D" \
  >/dev/null 2>&1
cat "$T/t1" "$T/t2"
left="$(sqlite3 "$DB" "SELECT COUNT(*) FROM users WHERE $VARIANT")"
differ="$(sqlite3 "$DB" "SELECT (SELECT COUNT(*) FROM (SELECT * FROM ($REBUILD) EXCEPT SELECT
  municipality_id, gram, name_search, users FROM user_grams)) + (SELECT COUNT(*) FROM (SELECT
  municipality_id, gram, name_search, users FROM user_grams EXCEPT SELECT * FROM ($REBUILD)))")"
echo "keys left with a variant: $left; index rows that differ from a rebuild: $differ"
[ "$left" = 0 ] && [ "$differ" = 0 ]
