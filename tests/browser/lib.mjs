// Shared helpers for the browser tests (tests/browser/*.test.mjs, run by run.mjs).
//
// Each test file exports `default async function (t)`, where `t` is the context built by run.mjs:
//   t.browser      a playwright-core Browser (Debian's Chromium)
//   t.step(name, fn)  runs one named step and logs it
//   t.artifactDir  a temporary folder for screenshots of failures
// A test starts its own server with startServer() and stops it in a finally block; every server
// started here is also killed when the process exits, whatever happens.

import { spawn, execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NSDB = process.env.NSDB_BIN ? resolve(process.env.NSDB_BIN) : join(ROOT, 'nsdb');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

/** The two viewports every page must work at (SPEC §4: 1280×800 and a narrow screen). */
export const VIEWPORTS = [
  { name: 'desktop 1280×800', width: 1280, height: 800 },
  { name: 'narrow 375×740', width: 375, height: 740 },
];

/** A password that passes the policy (SPEC §3). */
export const GOOD_PASSWORD = 'correct horse battery staple 2026';

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export class TestFailure extends Error {
  name = 'TestFailure';
}

export function assert(cond, message) {
  if (!cond) throw new TestFailure(message);
}

export function assertEqual(actual, expected, what) {
  if (actual !== expected) {
    throw new TestFailure(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Server

const liveServers = new Set();
function killAllServers() {
  for (const s of liveServers) {
    try { s.proc.kill('SIGKILL'); } catch { /* already gone */ }
  }
}
process.on('exit', killAllServers);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { killAllServers(); process.exit(130); });
}

export async function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `./nsdb serve` in a fresh temporary data folder on a free loopback port and waits until
 * GET /healthz answers "ok". Returns { url, dataDir, proc, log(), stop() }; stop() sends SIGTERM
 * (SIGKILL after 5 s), removes the data folder and resolves to the exit { code, sig }.
 */
export async function startServer({ extraArgs = [], env = {} } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'nsdb-browser-'));
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = spawn(NSDB, ['serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`, ...extraArgs], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout.on('data', (d) => { output += d; });
    proc.stderr.on('data', (d) => { output += d; });
    let exited = null;
    proc.on('exit', (code, sig) => { exited = { code, sig }; liveServers.delete(server); });
    proc.on('error', (e) => { exited = { error: e }; });
    const server = {
      url,
      dataDir,
      proc,
      log: () => output,
      async stop() {
        liveServers.delete(server);
        if (exited === null) {
          proc.kill('SIGTERM');
          for (let i = 0; i < 50 && exited === null; i++) await sleep(100);
          if (exited === null) {
            proc.kill('SIGKILL');
            for (let i = 0; i < 20 && exited === null; i++) await sleep(50);
          }
        }
        await rm(dataDir, { recursive: true, force: true });
        return exited;
      },
    };
    liveServers.add(server);

    const deadline = Date.now() + 15000;
    while (Date.now() < deadline && exited === null) {
      try {
        const r = await fetch(`${url}/healthz`);
        const body = await r.text();
        if (r.status === 200 && body.trim() === 'ok') return server;
      } catch { /* not listening yet */ }
      await sleep(100);
    }
    lastErr = new TestFailure(
      `nsdb serve did not become healthy on ${url} (${exited ? `exited ${JSON.stringify(exited)}` : 'timeout'}).\n` +
      `--- server output ---\n${output}`);
    if (exited === null) proc.kill('SIGKILL');
    liveServers.delete(server);
    // A port taken between freePort() and the bind is retried; anything else is a real failure.
    if (!/address already in use|EADDRINUSE|bind/i.test(output)) break;
  }
  await rm(dataDir, { recursive: true, force: true });
  throw lastErr;
}

/** Stops the server and fails unless it shut down cleanly (exit 0 on SIGTERM; under ASan a leak
 *  report makes the exit status non-zero). */
export async function stopServerCleanly(server) {
  const exit = await server.stop();
  if (!exit || exit.code !== 0) {
    throw new TestFailure(`nsdb serve did not exit cleanly on SIGTERM: ${JSON.stringify(exit)}\n` +
      `--- last server output ---\n${server.log().trim().split('\n').slice(-20).join('\n')}`);
  }
}

/** Creates a user with the CLI; returns { user_id, initial_password }. */
export async function createUser(server, { role = 'mhlw', name = 'テスト 太郎', extra = [] } = {}) {
  const { stdout } = await execFileP(NSDB, ['user', 'add', '--data', server.dataDir, '--role', role,
    '--name', name, '--json', ...extra], { cwd: ROOT });
  const u = JSON.parse(stdout);
  assert(typeof u.user_id === 'string' && typeof u.initial_password === 'string',
    `nsdb user add --json printed ${stdout}`);
  return u;
}

// ---------------------------------------------------------------------------------------------
// Browser

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A new browser context. bypassCSP is needed to inject axe-core into pages whose CSP forbids
 * inline script; the server's own pages never rely on it. Console errors (e.g. CSP violations
 * reported by the page's own resources) are collected in ctx.consoleErrors.
 */
export async function newContext(browser, opts = {}) {
  const context = await browser.newContext({
    bypassCSP: true,
    locale: 'ja-JP',
    viewport: { width: VIEWPORTS[0].width, height: VIEWPORTS[0].height },
    ...opts,
  });
  context.consoleErrors = [];
  context.on('page', (page) => {
    page.on('console', (m) => {
      // A 4xx answer is logged by Chromium as a console error; the forms answer 400/401 on
      // purpose (and there is no favicon), so only other errors, e.g. CSP refusals, count.
      if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
        context.consoleErrors.push(`${page.url()}: ${m.text()}`);
      }
    });
    page.on('pageerror', (e) => context.consoleErrors.push(`${page.url()}: ${e.message}`));
  });
  return context;
}

let axeSource;
async function axeScript() {
  axeSource ??= await readFile(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  return axeSource;
}

/** Formats axe violations for a human: rule, impact, help, URL and each node's target and summary. */
export function formatViolations(violations) {
  return violations.map((v) => {
    const nodes = v.nodes.map((n) => {
      const summary = (n.failureSummary || '').split('\n').map((l) => `          ${l}`).join('\n');
      return `      - ${JSON.stringify(n.target)}\n          html: ${n.html.slice(0, 200)}\n${summary}`;
    }).join('\n');
    return `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.helpUrl}\n${nodes}`;
  }).join('\n');
}

/** Runs axe-core (WCAG 2.1 A/AA) on the page and throws if it reports any violation. */
export async function checkA11y(page, label) {
  const already = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!already) await page.addScriptTag({ content: await axeScript() });
  const result = await page.evaluate(async (tags) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return { violations: r.violations, incomplete: r.incomplete.length };
  }, AXE_TAGS);
  if (result.violations.length > 0) {
    throw new TestFailure(`axe-core: ${result.violations.length} violation(s) on ${label} (${page.url()}):\n` +
      formatViolations(result.violations));
  }
  return result;
}

/** Checks there is no horizontal scrolling at each of VIEWPORTS, then restores the first one. */
export async function checkNoHorizontalScroll(page, label, viewports = VIEWPORTS) {
  const problems = [];
  for (const vp of viewports) {
    await page.setViewportSize({ width: vp.width, height: vp.height });
    const m = await page.evaluate(() => {
      const de = document.documentElement;
      const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''}`;
      // The ancestor whose overflow clips el (following the containing-block chain, so that an
      // absolutely positioned element escapes the scroll containers between it and its
      // positioned ancestor), or null when el can widen the page.
      const clipper = (el) => {
        let node = el;
        while (node && node !== document.body && node !== de) {
          const pos = getComputedStyle(node).position;
          if (pos === 'fixed') return null;
          let parent = node.parentElement;
          if (pos === 'absolute') {
            while (parent && parent !== document.body && getComputedStyle(parent).position === 'static') parent = parent.parentElement;
          }
          if (!parent || parent === document.body || parent === de) return null;
          if (getComputedStyle(parent).overflowX !== 'visible') return parent;
          node = parent;
        }
        return null;
      };
      const wide = [];
      const escaping = [];
      for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.right > window.innerWidth + 0.5 && r.width > 0) {
          wide.push(`${describe(el)} (right=${Math.round(r.right)})`);
          if (!clipper(el)) {
            const chain = [];
            for (let p = el.parentElement; p && p !== document.body && chain.length < 4; p = p.parentElement) chain.push(describe(p));
            escaping.push(`${describe(el)} [position ${getComputedStyle(el).position}] in ${chain.join(' < ')} (right=${Math.round(r.right)})`);
          }
        }
      }
      return { scrollWidth: de.scrollWidth, innerWidth: window.innerWidth, wide: wide.slice(0, 8), escaping: escaping.slice(0, 8) };
    });
    if (m.scrollWidth > m.innerWidth) {
      problems.push(`${vp.name}: scrollWidth ${m.scrollWidth} > innerWidth ${m.innerWidth}; too wide: ${m.wide.join(', ') || '(none found)'}` +
        (m.escaping.length ? `\n    not clipped by any scroll container (these widen the page): ${m.escaping.join('; ')}` : ''));
    }
  }
  await page.setViewportSize({ width: viewports[0].width, height: viewports[0].height });
  if (problems.length) throw new TestFailure(`horizontal scroll on ${label}:\n  ${problems.join('\n  ')}`);
}

/** Both page checks: axe at every viewport and no horizontal scroll. */
export async function checkPage(page, label) {
  for (const vp of VIEWPORTS) {
    await page.setViewportSize({ width: vp.width, height: vp.height });
    await checkA11y(page, `${label} @ ${vp.name}`);
  }
  await checkNoHorizontalScroll(page, label);
}

/**
 * The frame every flow test shares: a work folder, a server (t.server), a browser context that
 * accepts downloads and its page (t.page), the page checks, and the cleanup. Page checks fail at
 * once, or with NSDB_A11Y_CONTINUE=1 are collected and fail at the end. body receives
 * { work, server, context, page, check } and runs the test's steps; after it, the browser console
 * must be free of errors, and the server must exit cleanly on SIGTERM.
 */
export async function runFlow(t, workPrefix, body, { serverArgs = [], serverEnv = {} } = {}) {
  const work = await mkdtemp(join(tmpdir(), workPrefix));
  const server = await startServer({ extraArgs: serverArgs, env: serverEnv });
  t.server = server;
  const context = await newContext(t.browser, { acceptDownloads: true });
  const page = await context.newPage();
  t.page = page;

  const collect = process.env.NSDB_A11Y_CONTINUE === '1';
  const pageProblems = [];
  const check = async (label) => {
    try {
      await checkPage(page, label);
    } catch (e) {
      if (!collect || !(e instanceof TestFailure)) throw e;
      pageProblems.push(e.message);
      t.log(`    (collected) ${e.message.split('\n')[0]}`);
    }
  };

  try {
    await body({ work, server, context, page, check });
    assert(context.consoleErrors.length === 0,
      `browser console errors (CSP violations?):\n  ${context.consoleErrors.join('\n  ')}`);
    if (pageProblems.length) {
      throw new TestFailure(`${pageProblems.length} page check(s) failed:\n\n${pageProblems.join('\n\n')}`);
    }
  } catch (e) {
    await context.close();
    await server.stop();
    await rm(work, { recursive: true, force: true });
    throw e;
  }
  await context.close();
  await rm(work, { recursive: true, force: true });
  await t.step('server exits cleanly on SIGTERM', () => stopServerCleanly(server));
}

/** The path (and query) of the page's URL. */
export function pathOf(page) {
  const u = new URL(page.url());
  return u.pathname + u.search;
}

// Two-factor authentication (issue 14): users are enrolled through the real page, as a person
// with an authenticator app would, and their secrets kept here so that later logins pass
// /login/totp. user ID -> { secret (base32), lastStep, recovery: [unused codes] }
const totpUsers = new Map();

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const ch of text.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 (HMAC-SHA1, 6 digits) of a 30-second time step. */
export function totpCode(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, '0');
}

const totpStep = () => Math.floor(Date.now() / 30000);

/** A code the server has not seen for the user: this step, the next, a recovery code, or a wait. */
export async function totpNextCode(userId) {
  const state = totpUsers.get(userId);
  for (;;) {
    const now = totpStep();
    for (const step of [now, now + 1]) {
      if (step > state.lastStep) {
        state.lastStep = step;
        return totpCode(state.secret, step);
      }
    }
    if (state.recovery.length > 0) return state.recovery.pop();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** On /account/totp: reads the otpauth URI, types the current code, keeps the recovery codes and
 * goes on to the menu. */
export async function enrolTotp(page) {
  const uri = await page.locator('.totp-uri').innerText();
  const m = uri.match(/^otpauth:\/\/totp\/nsdb:([A-Z0-9]{12})\?secret=([A-Z2-7]+)&issuer=nsdb/);
  assert(m, `no otpauth URI on the enrolment page: ${uri}`);
  const step = totpStep();
  await page.getByLabel('確認コード').fill(totpCode(m[2], step));
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.getByRole('button', { name: '設定する' }).click(),
  ]);
  const recovery = await page.locator('.recovery-code').allInnerTexts();
  assertEqual(recovery.length, 10, 'recovery codes shown after enrolment');
  totpUsers.set(m[1], { secret: m[2], lastStep: step, recovery });
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.getByRole('link', { name: 'メニューへ進む' }).click(),
  ]);
}

/** Fills the login form by its labels and submits it; waits for the resulting navigation. A user
 * enrolled by enrolTotp is taken through /login/totp with a fresh code. */
export async function submitLogin(page, userId, password) {
  await page.getByLabel('ユーザID').fill(userId);
  await page.getByLabel('パスワード', { exact: true }).fill(password);
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.getByRole('button', { name: 'ログイン' }).click(),
  ]);
  const known = userId.trim().toUpperCase();
  if (new URL(page.url()).pathname === '/login/totp' && totpUsers.has(known)) {
    await page.getByLabel('確認コード').fill(await totpNextCode(known));
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.getByRole('button', { name: '確認する' }).click(),
    ]);
  }
}

/** Fills the password change form by its labels and submits it. When the role must enrol in
 * two-factor authentication next (/account/totp), enrols and goes on to the menu. */
export async function submitPasswordChange(page, current, next, confirm = next) {
  await page.getByLabel('現在のパスワード').fill(current);
  await page.getByLabel('新しいパスワード', { exact: true }).fill(next);
  await page.getByLabel('新しいパスワード（確認）').fill(confirm);
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.getByRole('button', { name: '変更する' }).click(),
  ]);
  if (new URL(page.url()).pathname === '/account/totp') await enrolTotp(page);
}

/**
 * Logs a fresh user in through the browser, does the forced password change and leaves the page
 * on the menu. For later flow tests that just need a logged-in session. Returns the password set.
 */
export async function loginAndChangePassword(page, server, user, newPassword = GOOD_PASSWORD) {
  await page.goto(`${server.url}/login`);
  await submitLogin(page, user.user_id, user.initial_password);
  assertEqual(new URL(page.url()).pathname, '/account/password', 'page after first login');
  await submitPasswordChange(page, user.initial_password, newPassword);
  assertEqual(new URL(page.url()).pathname, '/', 'page after password change');
  return newPassword;
}

// ---------------------------------------------------------------------------------------------
// Flow II helpers

/** Adds a municipality with the CLI (`nsdb municipality add`). */
export async function addMunicipality(server, { code, name, extra = [] }) {
  await execFileP(NSDB, ['municipality', 'add', '--data', server.dataDir, '--code', code, '--name', name,
    ...extra], { cwd: ROOT });
}

/** The 10-digit 医療機関コード made of nine digits and their Luhn check digit (SPEC §3: the
 *  check digit is such that the Luhn sum over all ten digits is a multiple of 10). */
export function institutionCode(first9) {
  assert(/^\d{9}$/.test(first9), `institutionCode: nine digits expected, got ${first9}`);
  let sum = 0;
  // Counted from the right of the full number, the check digit is position 1 (not doubled), so
  // the payload's rightmost digit is doubled.
  for (let i = 8, double = true; i >= 0; i--, double = !double) {
    let d = first9.charCodeAt(i) - 48;
    if (double) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return first9 + String((10 - (sum % 10)) % 10);
}

// ---------------------------------------------------------------------------------------------
// Media cycle helpers

/** Runs `nsdb ARGS --data DIR` (a CLI verb with --json) and returns its parsed output. */
export async function nsdbJson(server, args) {
  const { stdout } = await execFileP(NSDB, [...args, '--data', server.dataDir], { cwd: ROOT, maxBuffer: 64 << 20 });
  try {
    return JSON.parse(stdout);
  } catch {
    throw new TestFailure(`nsdb ${args.join(' ')} did not print JSON:\n${stdout.slice(0, 2000)}`);
  }
}
