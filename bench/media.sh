# shellcheck shell=bash
# Section "media" of bench/run.sh (issue 5, item 6), sourced by it: media build and packing.
#
#   BENCH_MEDIA_N institutions (default 1,000), one 指定医 each, are registered through 一括登録
#   (one CSV over HTTP, bench/media_register.py) so that they fall into today's cycle, and built
#   with `nsdb media build` from a template of about 5 MB (random bytes shaped like the real one:
#   manuals, video, check tool, VPN client). First N/10 institutions, then N more in the same cycle
#   (a build only makes what is missing), so ratio t(N) / (10 × t(N/10)) shows how the cost grows
#   (1.0 = linear). Per build: total and per-media time, and the disk used by the new images
#   (du -sb DATA/media). Floors, in the same run: `genisoimage -J -R -o x.iso TEMPLATE` (median of
#   BENCH_MEDIA_FLOOR_RUNS runs) × N, and the same followed by an fsync of the image (nsdb fsyncs
#   every image before recording it); ratio = nsdb / floor. Then `nsdb package build` (at most 15
#   media per package, a label and a list PDF each) for both builds. Needs about 6.5 GB of disk in
#   TMPDIR for N = 1,000 (removed before the summary); takes about two minutes for N = 1,000.
#
# Uses from run.sh: NSDB, TMP, PASSWORD, die, jget, free_port, stop_pid.

MEDIA_N="${BENCH_MEDIA_N:-1000}"
MEDIA_FLOOR_RUNS="${BENCH_MEDIA_FLOOR_RUNS:-5}"
MEDIA_SERVER_PID=""

media_now() { date +%s.%N; }
media_elapsed() { python3 -c 'import sys; print(f"{float(sys.argv[2])-float(sys.argv[1]):.3f}")' "$1" "$2"; }
media_calc() { python3 -c "import sys; print($1)" "${@:2}"; }
media_median() { python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in open(sys.argv[1])):.4f}")' "$1"; }

# A template of about 5 MB shaped like the real one (SPEC §6); random bytes, so nothing compresses.
media_template() { # dir
  local d="$1"
  mkdir -p "$d/マニュアル" "$d/動画" "$d/チェックツール" "$d/VPN"
  head -c $((1400 * 1024)) /dev/urandom >"$d/マニュアル/難病・小慢DB 操作マニュアル.pdf"
  head -c $((300 * 1024)) /dev/urandom >"$d/マニュアル/チェックツール説明書.pdf"
  head -c $((2600 * 1024)) /dev/urandom >"$d/動画/操作説明.mp4"
  head -c $((450 * 1024)) /dev/urandom >"$d/チェックツール/checktool.exe"
  head -c $((380 * 1024)) /dev/urandom >"$d/VPN/vpnclient-setup.msi"
  head -c $((120 * 1024)) /dev/urandom >"$d/VPN/VPN接続手順.pdf"
  printf '難病・小慢DB 医療機関用媒体\r\n同封の案内に従ってセットアップしてください。\r\n' >"$d/はじめにお読みください.txt"
}

# One timed `nsdb media build` / `nsdb package build` (after a sync, so that earlier writes do not
# land in its time): prints "seconds count".
media_timed() { # media|package cycle out.json [more args]
  local verb="$1" cycle="$2" out="$3" t0 t1
  shift 3
  sync
  t0="$(media_now)"
  "$NSDB" "$verb" build --data "$MEDIA_DIR/data" --cycle "$cycle" --json "$@" >"$out" 2>>"$MEDIA_DIR/cli.log" \
    || { tail -5 "$MEDIA_DIR/cli.log" >&2; die "nsdb $verb build failed"; }
  t1="$(media_now)"
  echo "$(media_elapsed "$t0" "$t1") $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$out")"
}

bench_media() {
  local geniso dir port url staff session cycle r du1 du2 t0 t1
  geniso="$(command -v genisoimage || command -v mkisofs || true)"
  [ -n "$geniso" ] || die "genisoimage (or mkisofs) not installed (apt install genisoimage)"
  [ "$MEDIA_N" -ge 10 ] || die "BENCH_MEDIA_N must be at least 10"
  MEDIA_GENISO="$(basename "$geniso")"
  MEDIA_DIR="$TMP/media"
  dir="$MEDIA_DIR"
  mkdir -p "$dir"
  media_template "$dir/template"
  MEDIA_TEMPLATE_BYTES="$(du -sb "$dir/template" | cut -f1)"
  MEDIA_N1=$((MEDIA_N / 10))

  port="$(free_port)"
  url="http://127.0.0.1:$port"
  "$NSDB" serve --data "$dir/data" --listen "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
  MEDIA_SERVER_PID=$!
  for _ in $(seq 150); do
    if [ "$(curl -s -m 1 "$url/healthz" 2>/dev/null || true)" = ok ]; then break; fi
    kill -0 "$MEDIA_SERVER_PID" 2>/dev/null || { cat "$dir/server.log" >&2; die "nsdb serve (media) exited"; }
    sleep 0.1
  done
  "$NSDB" municipality add --data "$dir/data" --code 131016 --name 千代田区 --postal 100-8511 \
    --address 東京都千代田区九段南1-2-1 >/dev/null
  staff="$("$NSDB" user add --data "$dir/data" --role muni_staff --name 'ベンチ 職員' --municipality 131016 --json)"
  session="$(python3 bench/media_register.py login "$url" "$(jget user_id "$staff")" \
    "$(jget initial_password "$staff")" "$PASSWORD")"
  # today's cycle (Japan time): the one whose registration window holds today, or the next one
  cycle="$("$NSDB" cycle list --data "$dir/data" --json --from "$(TZ=Asia/Tokyo date -d '-60 days' +%F)" | python3 -c '
import datetime, json, sys
today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=9)).date().isoformat()
print(next(c["id"] for c in json.load(sys.stdin) if c["registration_to"] >= today))')"
  MEDIA_CYCLE="$cycle"

  echo "bench: media — $MEDIA_N1 institutions registered (一括登録 over HTTP) in cycle $cycle"
  r="$(python3 bench/media_register.py register "$url" "$session" 1 "$MEDIA_N1")"; echo "  $r"
  echo "bench: media — nsdb media build, $MEDIA_N1 media (template $MEDIA_TEMPLATE_BYTES bytes)"
  read -r MEDIA_T1 MEDIA_C1 <<<"$(media_timed media "$cycle" "$dir/build1.json" --template "$dir/template")"
  echo "  $MEDIA_C1 media in $MEDIA_T1 s"
  MEDIA_DISK1="$(du -sb "$dir/data/media" | cut -f1)"
  echo "bench: media — nsdb package build, $MEDIA_N1 media"
  read -r MEDIA_PT1 MEDIA_PC1 <<<"$(media_timed package "$cycle" "$dir/pack1.json")"
  echo "  $MEDIA_PC1 packages in $MEDIA_PT1 s"
  du1="$(du -sb "$dir/data/media" | cut -f1)"

  echo "bench: media — $MEDIA_N more institutions registered, same cycle"
  r="$(python3 bench/media_register.py register "$url" "$session" $((MEDIA_N1 + 1)) "$MEDIA_N")"; echo "  $r"
  MEDIA_IMPORT_S="$(jget import_s "$r")"
  stop_pid "$MEDIA_SERVER_PID" # idle, but out of the way of the builds
  echo "bench: media — nsdb media build, $MEDIA_N media"
  read -r MEDIA_T2 MEDIA_C2 <<<"$(media_timed media "$cycle" "$dir/build2.json" --template "$dir/template")"
  echo "  $MEDIA_C2 media in $MEDIA_T2 s"
  du2="$(du -sb "$dir/data/media" | cut -f1)"
  MEDIA_DISK2=$((du2 - du1))
  echo "bench: media — nsdb package build, $MEDIA_N media"
  read -r MEDIA_PT2 MEDIA_PC2 <<<"$(media_timed package "$cycle" "$dir/pack2.json")"
  echo "  $MEDIA_PC2 packages in $MEDIA_PT2 s"
  MEDIA_ISO_BYTES="$(python3 -c 'import json,os,sys; print(os.path.getsize(json.load(open(sys.argv[1]))[0]["iso"]))' "$dir/build2.json")"
  MEDIA_PACK_DISK="$(du -sb "$dir/data/media/$cycle/packages" | cut -f1)"
  MEDIA_DISK_TOTAL="$(du -sb "$dir/data/media" | cut -f1)"
  rm -rf "$dir/data/media" # gigabytes: free them before the floor runs

  echo "bench: media — floor: $MEDIA_GENISO -J -R of the template, $MEDIA_FLOOR_RUNS runs, alone and with fsync"
  : >"$dir/floor.txt"
  : >"$dir/floor_sync.txt"
  for _ in $(seq "$MEDIA_FLOOR_RUNS"); do
    sync
    t0="$(media_now)"; "$geniso" -quiet -J -R -o "$dir/floor.iso" "$dir/template"; t1="$(media_now)"
    media_elapsed "$t0" "$t1" >>"$dir/floor.txt"
    rm -f "$dir/floor.iso"
    sync
    t0="$(media_now)"; "$geniso" -quiet -J -R -o "$dir/floor.iso" "$dir/template"; sync "$dir/floor.iso"; t1="$(media_now)"
    media_elapsed "$t0" "$t1" >>"$dir/floor_sync.txt"
    MEDIA_FLOOR_ISO_BYTES="$(stat -c %s "$dir/floor.iso")"
    rm -f "$dir/floor.iso"
  done
  MEDIA_FLOOR_ONE="$(media_median "$dir/floor.txt")"
  MEDIA_FLOOR_SYNC_ONE="$(media_median "$dir/floor_sync.txt")"
  echo "  one image: $MEDIA_FLOOR_ONE s; with fsync: $MEDIA_FLOOR_SYNC_ONE s (medians)"
}

summary_media() {
  local per1 per2 floor_n floor_sync_n
  per1="$(media_calc 'f"{float(sys.argv[1])/int(sys.argv[2])*1000:.1f}"' "$MEDIA_T1" "$MEDIA_C1")"
  per2="$(media_calc 'f"{float(sys.argv[1])/int(sys.argv[2])*1000:.1f}"' "$MEDIA_T2" "$MEDIA_C2")"
  floor_n="$(media_calc 'f"{float(sys.argv[1])*int(sys.argv[2]):.2f}"' "$MEDIA_FLOOR_ONE" "$MEDIA_N")"
  floor_sync_n="$(media_calc 'f"{float(sys.argv[1])*int(sys.argv[2]):.2f}"' "$MEDIA_FLOOR_SYNC_ONE" "$MEDIA_N")"
  cat <<EOF
media. media build and packing (cycle $MEDIA_CYCLE; template $MEDIA_TEMPLATE_BYTES bytes; one 指定医 per institution)
   nsdb media build, $MEDIA_N1 media          $MEDIA_T1 s ($per1 ms per media), $MEDIA_DISK1 bytes (du -sb DATA/media)
   nsdb media build, $MEDIA_N media         $MEDIA_T2 s ($per2 ms per media), $MEDIA_DISK2 bytes more ($MEDIA_ISO_BYTES per image)
   ratio t($MEDIA_N) / (10 × t($MEDIA_N1))        $(media_calc 'f"{float(sys.argv[1])/(10*float(sys.argv[2])):.3f}"' "$MEDIA_T2" "$MEDIA_T1")   (1.0 = linear)
   floor: $MEDIA_GENISO × $MEDIA_N           $floor_n s ($(media_calc 'f"{float(sys.argv[1])*1000:.1f}"' "$MEDIA_FLOOR_ONE") ms per image, median of $MEDIA_FLOOR_RUNS; $MEDIA_FLOOR_ISO_BYTES bytes)
   ratio nsdb / floor                 $(media_calc 'f"{float(sys.argv[1])/float(sys.argv[2]):.2f}"' "$MEDIA_T2" "$floor_n")
   floor + fsync × $MEDIA_N             $floor_sync_n s ($(media_calc 'f"{float(sys.argv[1])*1000:.1f}"' "$MEDIA_FLOOR_SYNC_ONE") ms per image)
   ratio nsdb / (floor + fsync)       $(media_calc 'f"{float(sys.argv[1])/float(sys.argv[2]):.2f}"' "$MEDIA_T2" "$floor_sync_n")
   一括登録 of $MEDIA_N institutions      $MEDIA_IMPORT_S s (one HTTP POST)
   nsdb package build, $MEDIA_N1 media        $MEDIA_PT1 s for $MEDIA_PC1 packages
   nsdb package build, $MEDIA_N media       $MEDIA_PT2 s for $MEDIA_PC2 packages ($(media_calc 'f"{float(sys.argv[1])/int(sys.argv[2])*1000:.1f}"' "$MEDIA_PT2" "$MEDIA_PC2") ms per package)
   DATA/media after both              $MEDIA_DISK_TOTAL bytes (packages folder: $MEDIA_PACK_DISK bytes of label and list PDFs and CSVs)
EOF
}

# Exit status: 1 when a build made another number of media than asked for.
media_status_ok() {
  [ "$MEDIA_C1" = "$MEDIA_N1" ] && [ "$MEDIA_C2" = "$MEDIA_N" ] \
    && [ "$MEDIA_PC1" = $(((MEDIA_N1 + 14) / 15)) ] && [ "$MEDIA_PC2" = $(((MEDIA_N + 14) / 15)) ]
}
