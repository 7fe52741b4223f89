#!/usr/bin/env bash
# check-layers.sh — the layering rules of issue 10 that the compiler does not see (run by
# `make lint`): no file under src/web or src/cli, nor src/main.c, opens a transaction or calls a
# store write. Every state change is one core/ operation (validate, transaction, audit); screens
# and verbs only parse, call and render. A store write is a store function that asserts an open
# transaction (STORE_ASSERT_WRITE), so the list below follows the code.
set -euo pipefail
cd "$(dirname "$0")/.."

writes=$(awk '
  /^nsdb_err store_[a-z_0-9]+\(/ { match($0, /store_[a-z_0-9]+/); name = substr($0, RSTART, RLENGTH) }
  /STORE_ASSERT_WRITE\(conn\)/ && name != "" { print name; name = "" }
  /^}/ { name = "" }' src/store/*.c | sort -u)
count=$(printf '%s\n' "$writes" | grep -c . || true)
if [ "$count" -lt 20 ]; then
  echo "check-layers: found only $count store writes (STORE_ASSERT_WRITE): the scan is broken" >&2
  exit 1
fi

edges=(src/web src/cli src/main.c)
fail=0
if grep -rnE '\bdb_(begin|begin_read|commit|rollback)\(' "${edges[@]}"; then
  echo "check-layers: a screen or verb opens a transaction; move the change into a core/ operation" >&2
  fail=1
fi
if grep -rnE "\\b($(printf '%s\n' "$writes" | paste -sd'|'))\\(" "${edges[@]}"; then
  echo "check-layers: a screen or verb calls a store write; call the core/ operation instead" >&2
  fail=1
fi
[ "$fail" -eq 0 ] && echo "check-layers: $count store writes, none called from src/web, src/cli or main.c"
exit "$fail"
