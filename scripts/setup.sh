#!/usr/bin/env bash
# Installs every Debian and npm package that nsdb's build, tests, benchmarks and runtime need.
# Idempotent: a package already present is not fetched again. Runs as root or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential pkg-config make gcc git ca-certificates curl
  libmicrohttpd-dev libsqlite3-dev sqlite3 libpq-dev postgresql
  libsodium-dev libzxcvbn-dev libjansson-dev libutf8proc-dev libcurl4-openssl-dev
  libcairo2-dev libpango1.0-dev fonts-ipaexfont fonts-dejavu-core libcsv-dev libzip-dev libxml2-dev
  libxlsxwriter-dev libisofs-dev libssl-dev libcmocka-dev
  liboath-dev libqrencode-dev
  valgrind cppcheck python3 python3-aiosmtpd poppler-utils wrk libreoffice-calc-nogui genisoimage openssl
  chromium
  clang libclang-rt-14-dev  # make fuzz: clang 14 and its libFuzzer, ASan, UBSan runtimes (a Recommends)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Browser tests: playwright-core drives Debian's chromium; axe-core checks accessibility.
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ]; then
  npm ci --no-audit --no-fund --silent
fi
