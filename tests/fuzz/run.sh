#!/usr/bin/env bash
# Runs libFuzzer harnesses (make fuzz / make fuzz-smoke): run.sh SECONDS NAME...
# Each harness build/fuzz/fuzz_NAME runs for SECONDS on a scratch copy of its seed corpus
# tests/fuzz/corpus/NAME/ (so the tree is never modified; new inputs are thrown away), with its
# dictionary tests/fuzz/NAME.dict when there is one, -rss_limit_mb=2048 and a per-harness
# -max_len; -timeout=25, since a render may take about 5 s under ASan before it meets the template
# limits. A crash, leak, UB report or timeout stops the run with a non-zero status; the input is
# kept in build/fuzz/artifacts/NAME/ (see README "Fuzzing" for adding it to the corpus).
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=$1
shift

max_len() {
    case $1 in
    csv) echo 16384 ;;
    inst_import) echo 65536 ;;
    xlsx) echo 65536 ;;
    xlsx_xml) echo 16384 ;;
    multipart) echo 16384 ;;
    template) echo 4096 ;;
    *) echo 4096 ;;
    esac
}

# one harness; its lines go to stdout, and it fails when the harness found something
run_one() {
    local name=$1 bin=build/fuzz/fuzz_$1 seeds=tests/fuzz/corpus/$1 scratch artifacts log
    [ -x "$bin" ] || { echo "fuzz: $bin is not built (make fuzz-build)" >&2; return 2; }
    [ -d "$seeds" ] || { echo "fuzz: no seed corpus $seeds" >&2; return 2; }
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/nsdb-fuzz-$name-XXXXXX")
    cp -r "$seeds"/. "$scratch"/
    artifacts=build/fuzz/artifacts/$name
    mkdir -p "$artifacts"
    args=(-max_total_time="$seconds" -max_len="$(max_len "$name")" -rss_limit_mb=2048 -timeout=25
          -print_final_stats=1 -artifact_prefix="$artifacts/")
    [ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
    log=build/fuzz/$name.log
    echo "== fuzz $name: ${seconds}s, $(find "$seeds" -type f | wc -l) seeds"
    local ok=0
    if ASAN_OPTIONS=detect_leaks=1 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
       "$bin" "${args[@]}" "$scratch" >"$log" 2>&1; then
        # the last status line: executions, coverage (cov: edges, ft: features), corpus, speed
        grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1 || true
    else
        ok=1
        echo "fuzz: $name FAILED; log $log, input in $artifacts/" >&2
        grep -E 'ERROR|SUMMARY|check failed|runtime error|timeout' "$log" | head -5 >&2 || true
    fi
    rm -rf "$scratch"
    return $ok
}

# FUZZ_JOBS harnesses at a time (libFuzzer runs one thread each; make fuzz-smoke uses the
# machine's cores); each one's lines are printed together when it ends
jobs=${FUZZ_JOBS:-1}
[ "$jobs" -le 4 ] || jobs=4 # each may take -rss_limit_mb
status=0
mkdir -p build/fuzz
running=0
for name in "$@"; do
    if [ "$jobs" -le 1 ]; then
        run_one "$name" || status=1
        continue
    fi
    if [ "$running" -ge "$jobs" ]; then
        wait -n || status=1
        running=$((running - 1))
    fi
    (if run_one "$name" >"build/fuzz/$name.out" 2>&1; then rc=0; else rc=$?; fi
     cat "build/fuzz/$name.out"; exit $rc) &
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
    wait -n || status=1
    running=$((running - 1))
done
exit $status
