#!/usr/bin/env bash
# Regenerates data/common-passwords.txt (one lower-case password a line) from the password
# frequency list of npm's @zxcvbn-ts/language-common (MIT). Run after `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
node -e "
const p = require('@zxcvbn-ts/language-common/dist/passwords.json.cjs');
const list = p.default || p;
const seen = new Set();
for (const w of list) {
  const l = String(w).toLowerCase().trim();
  if (l && !/\s/.test(l)) seen.add(l);
}
process.stdout.write([...seen].join('\n') + '\n');
" > data/common-passwords.txt
wc -l data/common-passwords.txt
