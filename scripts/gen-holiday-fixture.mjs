// Regenerates tests/data/holidays_jp.txt ("YYYY-MM-DD name", one holiday a line, in date order)
// from npm's @holiday-jp/holiday_jp (MIT), the reference that tests/unit/test_holiday.c checks
// src/domain/holiday.c against. Run after `npm ci`: node scripts/gen-holiday-fixture.mjs
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const holidays = require('@holiday-jp/holiday_jp/lib/holidays.js');
const version = require('@holiday-jp/holiday_jp/package.json').version;

const dates = Object.keys(holidays).sort();
const lines = dates.map((d) => `${d} ${holidays[d].name}`);
const header = `# @holiday-jp/holiday_jp ${version}: ${dates[0]} .. ${dates[dates.length - 1]}\n`;
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'data', 'holidays_jp.txt');
writeFileSync(out, header + lines.join('\n') + '\n');
console.log(`${out}: ${lines.length} holidays`);
