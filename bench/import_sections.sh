# shellcheck shell=bash
# Sections "import2", "importpg" and "importload" of bench/run.sh (issue 11, item 4), sourced by
# it. The measuring is done by bench/import_load.sh (one fresh server per scenario; see its
# header), run directly for SQLite and under scripts/pg-test.sh (a throwaway PostgreSQL server)
# for PostgreSQL; its results (IL_… assignments) are read back here under a prefix per run:
#   import2     I2_…  100,000 rows of 2 users per institution (50,000 new institutions) into a
#                     database already holding 10,000 users, and 10,000 rows the same way: time,
#                     floor (sqlite3 .import of the same file), ratio (goal ≤ 10), growth
#                     t(100k)/(10×t(10k)) (goal ≤ 1.2), peak RSS (goal < 200 MB), bytes per user.
#   importpg    PG_…  the same on PostgreSQL: time, ratio PG / SQLite (goal ≤ 2), bytes per user.
#   importload  LS_…, LP_…  B's logins (and 個別登録) during A's 100,000-row import, SQLite and
#                     PostgreSQL: count, failures, max and p99 login latency (goal: no failures,
#                     max < 1000 ms).
# Without PostgreSQL server binaries the PostgreSQL parts print "skipped: …".
#
# Uses from run.sh: TMP, die, py, ratio.

# file prefix: the IL_… assignments of import_load.sh's OUT file as PREFIX_IL_…
il_read() {
  local line
  while IFS= read -r line; do eval "$2_$line"; done <"$1"
}
il_pg_missing() { # prints why PostgreSQL cannot be used, or nothing
  local bin="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then echo "PostgreSQL server binaries not found (set PG_BIN)"
  elif ! command -v psql >/dev/null; then echo "psql not installed"; fi
}
il_pg() { # verb out: import_load.sh under a throwaway PostgreSQL server
  bash scripts/pg-test.sh bash bench/import_load.sh "$1" "$2"
}
il_goal() { # python-condition args… → met / MISSED
  py "import sys; a = sys.argv[1:]; print('met' if ($1) else 'MISSED')" "${@:2}"
}

bench_import2() {
  bash bench/import_load.sh two-per-inst "$TMP/import2.env" || die "import2 failed"
  il_read "$TMP/import2.env" I2
  I2_RATIO="$(ratio "$I2_IL_T100K" "$I2_IL_FLOOR")"
  I2_SCHEMA_RATIO="$(ratio "$I2_IL_SCHEMA_FLOOR" "$I2_IL_FLOOR")"
  I2_VS_SCHEMA="$(ratio "$I2_IL_T100K" "$I2_IL_SCHEMA_FLOOR")"
  I2_GROWTH="$(py 'import sys; print(f"{float(sys.argv[2])/(10*float(sys.argv[1])):.2f}")' "$I2_IL_T10K" "$I2_IL_T100K")"
  I2_OK_RATIO="$(il_goal 'float(a[0]) <= 10' "$I2_RATIO")"
  I2_OK_GROWTH="$(il_goal 'float(a[0]) <= 1.2' "$I2_GROWTH")"
  I2_OK_RSS="$(il_goal 'int(a[0]) * 1024 < 200 * 1000 * 1000' "$I2_IL_HWM_KB")"
}

summary_import2() {
  cat <<EOF
i. 一括登録, 2 users per institution, into a database already holding 10,000 users (SQLite; --threads 2; until the page without meta refresh)
   100,000 rows (50,000 new insts)    $I2_IL_T100K s   (fastest of $I2_IL_REPEAT imports, each on a fresh folder; $I2_IL_CSV_BYTES CSV bytes)
   floor: sqlite3 .import, same file  $I2_IL_FLOOR s   (fastest of $I2_IL_REPEAT, each just before an import)
   ratio import / floor               $I2_RATIO   (goal ≤ 10: $I2_OK_RATIO); each import / its floor: $I2_IL_PAIR_RATIOS
   users table alone, plain SQL       $I2_IL_SCHEMA_FLOOR s = $I2_SCHEMA_RATIO × floor (sqlite3 INSERT … SELECT of the same rows into
                                      nsdb's users table before the import, one transaction); import / this = $I2_VS_SCHEMA
   10,000 rows (5,000 institutions)   $I2_IL_T10K s
   growth t(100k) / (10 × t(10k))     $I2_GROWTH   (goal ≤ 1.2: $I2_OK_GROWTH)
   server peak RSS after the 100k     $((I2_IL_HWM_KB / 1024)) MiB = $((I2_IL_HWM_KB * 1024 / 1000000)) MB ($((I2_IL_HWM0_KB / 1024)) MiB before the upload)   (goal < 200 MB: $I2_OK_RSS)
   bytes per user (file + WAL)        before $I2_IL_BPU_BEFORE ($I2_IL_DB_BEFORE bytes / $I2_IL_USERS_BEFORE users), after $I2_IL_BPU_AFTER ($I2_IL_DB_AFTER bytes / $I2_IL_USERS_AFTER users)
EOF
}

bench_importpg() {
  PG_SKIPPED="$(il_pg_missing)"
  [ -z "$PG_SKIPPED" ] || { echo "bench: importpg skipped: $PG_SKIPPED"; return 0; }
  il_pg two-per-inst "$TMP/importpg.env" || die "importpg failed"
  il_read "$TMP/importpg.env" PG
  PG_GROWTH="$(py 'import sys; print(f"{float(sys.argv[2])/(10*float(sys.argv[1])):.2f}")' "$PG_IL_T10K" "$PG_IL_T100K")"
  PG_VS_SQLITE="n/a (run import2 too)"; PG_OK_RATIO=n/a
  PG_RAW_VS_SQLITE="n/a"
  if [ -n "${I2_IL_T100K:-}" ]; then
    # each against the floor measured just before its own imports: the two sections run minutes
    # apart, and this host's speed changes by half between minutes (the floor with it)
    PG_VS_SQLITE="$(py 'import sys; a=[float(x) for x in sys.argv[1:]]; print(f"{(a[0]/a[1])/(a[2]/a[3]):.2f}")' \
      "$PG_IL_T100K" "$PG_IL_FLOOR" "$I2_IL_T100K" "$I2_IL_FLOOR")"
    PG_RAW_VS_SQLITE="$(ratio "$PG_IL_T100K" "$I2_IL_T100K")"
    PG_OK_RATIO="$(il_goal 'float(a[0]) <= 2' "$PG_VS_SQLITE")"
  fi
}

summary_importpg() {
  if [ -n "$PG_SKIPPED" ]; then
    echo "j. 一括登録 on PostgreSQL: skipped: $PG_SKIPPED"
    return 0
  fi
  cat <<EOF
j. 一括登録 on PostgreSQL (scripts/pg-test.sh: fsync off), 2 users per institution, 10,000 users there already
   100,000 rows                       $PG_IL_T100K s   (fastest of $PG_IL_REPEAT, each on a fresh database; SQLite: ${I2_IL_T100K:-n/a} s; floor ${I2_IL_FLOOR:-n/a} s)
   ratio PostgreSQL / SQLite          $PG_VS_SQLITE   (goal ≤ 2: $PG_OK_RATIO): (PostgreSQL / its floor $PG_IL_FLOOR s) / (SQLite / its floor ${I2_IL_FLOOR:-n/a} s);
                                      the times alone: $PG_RAW_VS_SQLITE; each PostgreSQL import / its floor: $PG_IL_PAIR_RATIOS
   10,000 rows                        $PG_IL_T10K s; growth t(100k) / (10 × t(10k)) $PG_GROWTH
   server peak RSS after the 100k     $((PG_IL_HWM_KB / 1024)) MiB
   bytes per user (pg_database_size)  before $PG_IL_BPU_BEFORE ($PG_IL_DB_BEFORE bytes / $PG_IL_USERS_BEFORE users), after $PG_IL_BPU_AFTER ($PG_IL_DB_AFTER bytes / $PG_IL_USERS_AFTER users)
EOF
}

bench_importload() {
  bash bench/import_load.sh load "$TMP/importload-sqlite.env" || die "importload (SQLite) failed"
  il_read "$TMP/importload-sqlite.env" LS
  LS_OK="$(il_load_goal "$LS_IL_LOAD_JSON")"
  LOAD_PG_SKIPPED="$(il_pg_missing)"
  if [ -n "$LOAD_PG_SKIPPED" ]; then
    echo "bench: importload on PostgreSQL skipped: $LOAD_PG_SKIPPED"
    return 0
  fi
  il_pg load "$TMP/importload-pg.env" || die "importload (PostgreSQL) failed"
  il_read "$TMP/importload-pg.env" LP
  LP_OK="$(il_load_goal "$LP_IL_LOAD_JSON")"
}
il_load_goal() { # json → met / MISSED (no failed login or registration, every login < 1000 ms)
  python3 bench/import_load.py report "$1" | sed -n 's/^goal: //p'
}
il_load_lines() { # json: the summary lines of one database
  python3 bench/import_load.py report "$1" | grep -v '^goal: '
}

summary_importload() {
  echo "k. during A's 100,000-row import (2 per institution, --threads 2): B logs in and registers one at a time, 0.25 s apart (bench/import_load.py)"
  echo "   SQLite                             goal no failures and every login < 1000 ms: $LS_OK"
  il_load_lines "$LS_IL_LOAD_JSON"
  if [ -n "$LOAD_PG_SKIPPED" ]; then
    echo "   PostgreSQL                         skipped: $LOAD_PG_SKIPPED"
  else
    echo "   PostgreSQL                         goal no failures and every login < 1000 ms: $LP_OK"
    il_load_lines "$LP_IL_LOAD_JSON"
  fi
}
