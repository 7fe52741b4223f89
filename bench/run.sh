#!/usr/bin/env bash
# nsdb benchmarks (issue 2, item 12) — `make bench` or `bash bench/run.sh`.
#
# Machines are shared and noisy, so every figure is printed next to a floor measured in the same
# run, on the same machine:
#   a. login CPU cost: server CPU time per successful HTTP login (concurrency 2) against raw
#      libsodium argon2id verification at the server's default cost (bench/pwhash_floor.c, same
#      concurrency). ratio = raw / server; the target is ≥ 0.85 (server overhead under 15%).
#   b. authenticated GET / (session cookie, template rendering) with 50 connections (wrk), against
#      GET /healthz (no session, no template) in the same run: requests/s, p99 latency, ratio.
#   c. peak RSS of the server (VmHWM) at the end.
# It starts its own `nsdb serve` on a free loopback port in a temporary data folder and always
# stops it. Takes about a minute.
#
# Environment: BENCH_LOGINS (at most this many logins, default 400), BENCH_LOGIN_SECONDS (and for
# at most this long, default 10), BENCH_FLOOR_N (default 60), BENCH_WRK_SECONDS (10),
# BENCH_STRICT=1 makes a login ratio under 0.85 an error (exit 3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NSDB="${NSDB_BIN:-$ROOT/nsdb}"
LOGINS="${BENCH_LOGINS:-400}"
LOGIN_SECONDS="${BENCH_LOGIN_SECONDS:-10}"
FLOOR_N="${BENCH_FLOOR_N:-60}"
WRK_SECONDS="${BENCH_WRK_SECONDS:-10}"
CONCURRENCY=2
PASSWORD='correct horse battery staple 2026'

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$NSDB" ] || die "$NSDB not found (run make nsdb)"
command -v wrk >/dev/null || die "wrk not installed"
command -v python3 >/dev/null || die "python3 not installed"
pkg-config --exists libsodium || die "libsodium development files not installed"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/nsdb-bench-XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the floor program -------------------------------------------------------------------------
# shellcheck disable=SC2046
cc -O2 -pthread -o "$TMP/pwhash_floor" bench/pwhash_floor.c $(pkg-config --cflags --libs libsodium)

# --- the server ------------------------------------------------------------------------------
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"
"$NSDB" serve --data "$TMP/data" --listen "127.0.0.1:$PORT" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 150); do
  if [ "$(curl -s -m 1 "$URL/healthz" 2>/dev/null || true)" = ok ]; then break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; die "nsdb serve exited"; }
  sleep 0.1
done
[ "$(curl -s -m 2 "$URL/healthz")" = ok ] || { cat "$TMP/server.log" >&2; die "server not healthy at $URL"; }
THREADS="$(ls "/proc/$SERVER_PID/task" | wc -l)"
echo "bench: nsdb serve pid $SERVER_PID at $URL ($THREADS threads), $(nproc) CPUs"

USER_JSON="$("$NSDB" user add --data "$TMP/data" --role mhlw --name 'ベンチ 太郎' --json)"
USER_ID="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["user_id"])' <<<"$USER_JSON")"
INITIAL="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["initial_password"])' <<<"$USER_JSON")"
SESSION="$(python3 bench/client.py setup "$URL" "$USER_ID" "$INITIAL" "$PASSWORD")"

kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
jget() { python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(v if not isinstance(v,dict) else json.dumps(v))' "$1" <<<"$2"; }

# --- a. login CPU cost against raw argon2id ---------------------------------------------------
echo "bench: raw argon2id verify, $FLOOR_N calls, 1 thread"
FLOOR1="$("$TMP/pwhash_floor" "$FLOOR_N" 1)"; echo "  $FLOOR1"
echo "bench: raw argon2id verify, $FLOOR_N calls, $CONCURRENCY threads (before the logins)"
FLOOR_A="$("$TMP/pwhash_floor" "$FLOOR_N" "$CONCURRENCY")"; echo "  $FLOOR_A"
echo "bench: up to $LOGINS HTTP logins in up to ${LOGIN_SECONDS}s, concurrency $CONCURRENCY"
LOGIN_JSON="$(python3 bench/client.py logins "$URL" "$USER_ID" "$PASSWORD" "$LOGINS" "$CONCURRENCY" "$SERVER_PID" "$LOGIN_SECONDS")"
echo "  $LOGIN_JSON"
echo "bench: raw argon2id verify, $FLOOR_N calls, $CONCURRENCY threads (after the logins)"
FLOOR_B="$("$TMP/pwhash_floor" "$FLOOR_N" "$CONCURRENCY")"; echo "  $FLOOR_B"

LOGIN_OK="$(jget ok "$LOGIN_JSON")"
LOGIN_N="$(jget n "$LOGIN_JSON")"
LOGIN_OTHER="$(jget other "$LOGIN_JSON")"
[ "$LOGIN_OK" -gt 0 ] || die "no successful login: $LOGIN_OTHER"
RAW1_MS="$(kv cpu_ms_per_verify "$FLOOR1")"
RAW_MS="$(python3 -c 'import sys; print(f"{(float(sys.argv[1])+float(sys.argv[2]))/2:.3f}")' \
  "$(kv cpu_ms_per_verify "$FLOOR_A")" "$(kv cpu_ms_per_verify "$FLOOR_B")")"
SERVER_MS="$(jget server_cpu_ms_per_login "$LOGIN_JSON")"
LOGIN_RATIO="$(python3 -c 'import sys; print(f"{float(sys.argv[1])/float(sys.argv[2]):.3f}")' "$RAW_MS" "$SERVER_MS")"
RAW_PER_S="$(python3 -c 'import sys; print(f"{(float(sys.argv[1])+float(sys.argv[2]))/2:.1f}")' \
  "$(kv verifies_per_s "$FLOOR_A")" "$(kv verifies_per_s "$FLOOR_B")")"
LOGINS_PER_S="$(jget logins_per_s "$LOGIN_JSON")"
LOGIN_WALL_RATIO="$(python3 -c 'import sys; print(f"{float(sys.argv[1])/float(sys.argv[2]):.3f}")' "$LOGINS_PER_S" "$RAW_PER_S")"

# --- b. authenticated GET / with 50 connections against /healthz -----------------------------
python3 bench/client.py check-menu "$URL" "$SESSION" || die "the session does not reach the menu"
run_wrk() { # path [cookie]
  local args=(-t2 -c50 "-d${WRK_SECONDS}s" --latency -s bench/status.lua)
  [ -n "${2:-}" ] && args+=(-H "Cookie: nsdb_session=$2")
  wrk "${args[@]}" "$URL$1"
}
wrk_rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$1"; }
wrk_p99_ms() {
  sed -n 's/^ *99% *\([0-9.]*\)\([a-z]*\).*/\1 \2/p' <<<"$1" | python3 -c '
import sys
v, u = sys.stdin.read().split()
scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[u]
print(f"{float(v) * scale:.2f}")'
}
wrk_bad() { sed -n 's/^not_200=\([0-9]*\)/\1/p' <<<"$1"; }
wrk_errors() { sed -n 's/^ *Socket errors: *\(.*\)/\1/p' <<<"$1"; }

echo "bench: wrk GET /healthz, 50 connections, ${WRK_SECONDS}s"
W_H="$(run_wrk /healthz)"; echo "$W_H" | sed 's/^/  /'
echo "bench: wrk GET / (authenticated), 50 connections, ${WRK_SECONDS}s"
W_M="$(run_wrk / "$SESSION")"; echo "$W_M" | sed 's/^/  /'
python3 bench/client.py check-menu "$URL" "$SESSION" || die "the session no longer reaches the menu after wrk"

H_RPS="$(wrk_rps "$W_H")"; H_P99="$(wrk_p99_ms "$W_H")"
M_RPS="$(wrk_rps "$W_M")"; M_P99="$(wrk_p99_ms "$W_M")"
M_BAD="$(wrk_bad "$W_M")"; H_BAD="$(wrk_bad "$W_H")"
MENU_RATIO="$(python3 -c 'import sys; print(f"{float(sys.argv[1])/float(sys.argv[2]):.3f}")' "$M_RPS" "$H_RPS")"

# --- c. peak RSS ------------------------------------------------------------------------------
HWM_KB="$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER_PID/status")"
RSS_KB="$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER_PID/status")"
[ -n "$HWM_KB" ] || die "cannot read VmHWM of pid $SERVER_PID"
THREADS="$(ls "/proc/$SERVER_PID/task" | wc -l)"

cat <<EOF

==================== nsdb bench summary ====================
machine: $(nproc) CPUs; server: $THREADS threads; $(date -u +%Y-%m-%dT%H:%M:%SZ)
a. login CPU cost (argon2id, opslimit 2, 19 MiB, concurrency $CONCURRENCY)
   raw crypto_pwhash_str_verify CPU   $RAW_MS ms/verify ($CONCURRENCY threads; 1 thread: $RAW1_MS ms)
   server CPU per successful login    $SERVER_MS ms ($LOGIN_OK of $LOGIN_N logins ok$( [ "$LOGIN_OTHER" = "{}" ] || echo "; other answers: $LOGIN_OTHER"))
   ratio raw / server                 $LOGIN_RATIO   (target >= 0.85)
   logins/s (wall)                    $LOGINS_PER_S   (raw verifies/s: $RAW_PER_S; ratio $LOGIN_WALL_RATIO)
b. GET with 50 connections (wrk -t2 -c50 -d${WRK_SECONDS}s)
   GET / (session, menu template)     $M_RPS req/s, p99 $M_P99 ms$( [ "${M_BAD:-0}" = 0 ] || echo ", NOT 200: $M_BAD")$( [ -z "$(wrk_errors "$W_M")" ] || echo ", socket errors: $(wrk_errors "$W_M")")
   GET /healthz (floor)               $H_RPS req/s, p99 $H_P99 ms$( [ "${H_BAD:-0}" = 0 ] || echo ", NOT 200: $H_BAD")$( [ -z "$(wrk_errors "$W_H")" ] || echo ", socket errors: $(wrk_errors "$W_H")")
   ratio menu / healthz               $MENU_RATIO
c. server peak RSS (VmHWM)            $((HWM_KB / 1024)) MiB ($HWM_KB kB; VmRSS now $RSS_KB kB)
=============================================================
EOF

STATUS=0
if [ "$LOGIN_OTHER" != "{}" ] || [ "${M_BAD:-0}" != 0 ] || [ "${H_BAD:-0}" != 0 ]; then
  echo "bench: some requests did not get the expected answer (see above)" >&2
  STATUS=1
fi
if [ "${BENCH_STRICT:-0}" = 1 ] && python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 0.85 else 1)' "$LOGIN_RATIO"; then
  echo "bench: login ratio $LOGIN_RATIO is under the 0.85 target" >&2
  STATUS=3
fi
exit $STATUS
