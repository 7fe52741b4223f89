#!/usr/bin/env node
// Browser tests: runs every tests/browser/*.test.mjs in sequence in Debian's Chromium
// (playwright-core). `node tests/browser/run.mjs [filter]` — `make test-browser`.
// A test file exports `default async function (t)`; see lib.mjs for the context `t` and helpers.
// Exit status: 0 when every test passed, 1 otherwise.

import { readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { launchBrowser, NSDB, CHROMIUM } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];

for (const [what, path] of [['nsdb binary (run `make nsdb`)', NSDB], ['Chromium', CHROMIUM]]) {
  if (!existsSync(path)) {
    console.error(`browser tests: ${what} not found at ${path}`);
    process.exit(1);
  }
}

const files = (await readdir(here))
  .filter((f) => f.endsWith('.test.mjs') && (!filter || f.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error(`browser tests: no tests/browser/*.test.mjs${filter ? ` matching ${filter}` : ''}`);
  process.exit(1);
}

const artifactDir = await mkdtemp(join(tmpdir(), 'nsdb-browser-artifacts-'));
const browser = await launchBrowser();
const results = [];
const started = Date.now();

try {
  for (const file of files) {
    const mod = await import(pathToFileURL(join(here, file)).href);
    console.log(`\n== ${file}${mod.description ? ` — ${mod.description}` : ''}`);
    const t0 = Date.now();
    const t = {
      browser,
      artifactDir,
      server: null,
      page: null,
      log: (...a) => console.log(...a),
      async step(name, fn) {
        const s0 = Date.now();
        try {
          await fn();
          console.log(`  ok   ${name} (${Date.now() - s0} ms)`);
        } catch (e) {
          console.log(`  FAIL ${name} (${Date.now() - s0} ms)`);
          if (t.page && !t.page.isClosed()) {
            const shot = join(artifactDir, `${file.replace(/\.test\.mjs$/, '')}-${name.replace(/[^\w-]+/g, '_').slice(0, 60)}.png`);
            try {
              await t.page.screenshot({ path: shot, fullPage: true });
              e.message += `\n  url: ${t.page.url()}\n  screenshot: ${shot}`;
            } catch { /* page unusable */ }
          }
          throw e;
        }
      },
    };
    try {
      await mod.default(t);
      results.push({ file, ok: true, ms: Date.now() - t0 });
      console.log(`   PASS ${file} (${Date.now() - t0} ms)`);
    } catch (e) {
      results.push({ file, ok: false, ms: Date.now() - t0 });
      console.log(`   FAIL ${file}\n${e.stack && !(e.name === 'TestFailure') ? e.stack : e.message}`);
      if (t.server) {
        const log = t.server.log().trim().split('\n').slice(-30).join('\n');
        console.log(`  --- last lines of the server output ---\n${log}`);
      }
    }
  }
} finally {
  await browser.close().catch(() => {});
}

const failed = results.filter((r) => !r.ok);
console.log(`\nbrowser tests: ${results.length - failed.length} passed, ${failed.length} failed ` +
  `(${((Date.now() - started) / 1000).toFixed(1)} s)${failed.length ? ` — failed: ${failed.map((r) => r.file).join(', ')}` : ''}`);
if (!failed.length) await rm(artifactDir, { recursive: true, force: true });
process.exit(failed.length ? 1 : 0);
