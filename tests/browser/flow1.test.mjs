// Flow I in Chromium (issue 3, item 7): the ministry uploads the admin application list (xlsx made
// by LibreOffice), approves it; the operator issues it (払出し); the new municipal admin logs in
// with the ID and initial password from the mail (.eml in DATA/mail, the server runs without
// --smtp), changes the password, registers a staff user and downloads the staff user's ID・PW
// notice, whose text is checked with pdftotext. A list with a wrong check digit shows its error
// table. Every new page state must have no axe-core violation (WCAG 2.1 A/AA) and no horizontal
// scroll at 1280×800 and 375×740.
//
// NSDB_A11Y_CONTINUE=1 collects axe violations and scroll problems instead of stopping at the
// first one, and fails at the end with all of them (for reporting template problems in one go).

import { execFile } from 'node:child_process';
import { writeFile, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import {
  createUser, submitLogin, submitPasswordChange, pathOf, assert, assertEqual, TestFailure,
  GOOD_PASSWORD, runFlow,
} from './lib.mjs';

const execFileP = promisify(execFile);

export const description = 'Flow I: admin list upload → approve → 払出し → mailed first login → staff registration → notice PDF';

const HEADER = 'No,地方公共団体コード,地方公共団体名,難病/小慢,部署名,役職,氏名,氏名カナ,メールアドレス,電話番号,内線,申請区分,備考,郵便番号,所属先住所';
const ADMIN = {
  code: '131016', municipality: '千代田区', name: '山田 太郎', kana: 'ヤマダ タロウ',
  email: 'taro@example.lg.jp',
};
const GOOD_ROW = `1,${ADMIN.code},${ADMIN.municipality},難病,保健福祉部,主事,${ADMIN.name},${ADMIN.kana},${ADMIN.email},03-1234-5678,,新規,,100-8511,東京都千代田区九段南1-2-1`;
// 131017: the check digit of 13101 is 6, so column B of data row 1 (sheet row 2) is wrong.
const BAD_ROW = `1,131017,千代田区,難病,保健福祉部,主事,${ADMIN.name},${ADMIN.kana},${ADMIN.email},03-1234-5678,,新規,,100-8511,東京都千代田区九段南1-2-1`;
const STAFF = {
  name: '鈴木 花子', kana: 'スズキ ハナコ', email: 'hanako@example.lg.jp', department: '保健予防課',
};
const ADMIN_PASSWORD = 'municipal admin passphrase 2026';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Converts CSV files to xlsx with LibreOffice (one run, a private profile so that concurrent
 *  soffice processes do not collide); returns the xlsx paths in the same order. */
async function csvToXlsx(dir, csvFiles) {
  const profile = join(dir, 'lo-profile');
  try {
    await execFileP('soffice', [`-env:UserInstallation=file://${profile}`, '--headless',
      '--infilter=CSV:44,34,76,1', '--convert-to', 'xlsx', '--outdir', dir, ...csvFiles],
    { timeout: 120000 });
  } catch (e) {
    throw new TestFailure(`soffice --convert-to xlsx failed: ${e.message}\n${e.stderr || ''}`);
  }
  const out = csvFiles.map((f) => f.replace(/\.csv$/, '.xlsx'));
  const have = await readdir(dir);
  for (const f of out) {
    assert(have.includes(f.split('/').pop()), `soffice did not write ${f} (folder has ${have.join(', ')})`);
  }
  return out;
}

/** Waits for the outbox to write DATA/mail/*.eml to `to`; returns { userId, password, text }. */
async function readMailedCredentials(dataDir, to, timeoutMs = 20000) {
  const dir = join(dataDir, 'mail');
  const deadline = Date.now() + timeoutMs;
  const seen = [];
  while (Date.now() < deadline) {
    let files = [];
    try { files = (await readdir(dir)).filter((f) => f.endsWith('.eml') && !f.startsWith('.')); } catch { /* not yet */ }
    for (const f of files.sort()) {
      const raw = (await readFile(join(dir, f))).toString('latin1');
      const split = raw.search(/\r?\n\r?\n/);
      assert(split > 0, `${f}: no blank line between header and body`);
      const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
      const toLine = (head.match(/^To:\s*(.*)$/mi) || [])[1] || '';
      if (!toLine.toLowerCase().includes(to.toLowerCase())) { seen.push(`${f} → ${toLine}`); continue; }
      assert(/^Content-Transfer-Encoding:\s*base64\s*$/mi.test(head), `${f}: body is not base64:\n${head}`);
      assert(/charset="?utf-8"?/i.test(head), `${f}: body is not UTF-8:\n${head}`);
      const text = Buffer.from(raw.slice(split).replace(/\s+/g, ''), 'base64').toString('utf8');
      const userId = (text.match(/ユーザID\s*\r?\n\s*([0-9A-Za-z]+)/) || [])[1];
      const password = (text.match(/初期パスワード\s*\r?\n\s*(\S+)/) || [])[1];
      assert(userId && password, `${f}: no user ID / initial password in the body:\n${text}`);
      return { userId, password, text, file: f };
    }
    await sleep(200);
  }
  throw new TestFailure(`no mail to ${to} in ${dir} after ${timeoutMs} ms (found: ${seen.join('; ') || 'nothing'})`);
}

async function clickAndWait(page, locator) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
}

/** Follows a link of the menu page's list (the same links are also in the navigation). */
async function menuLink(page, name) {
  await clickAndWait(page, page.locator('main').getByRole('link', { name, exact: true }));
}

async function logout(page) {
  await clickAndWait(page, page.getByRole('button', { name: 'ログアウト' }));
}

export default async function flow1Test(t) {
  await runFlow(t, 'nsdb-flow1-', async ({ work, server, context, page, check }) => {
    let goodXlsx, badXlsx;
    await t.step('make the lists with LibreOffice (CSV → xlsx)', async () => {
      const good = join(work, 'admin-list.csv');
      const bad = join(work, 'admin-list-bad.csv');
      await writeFile(good, `${HEADER}\n${GOOD_ROW}\n`);
      await writeFile(bad, `${HEADER}\n${BAD_ROW}\n`);
      [goodXlsx, badXlsx] = await csvToXlsx(work, [good, bad]);
    });

    const mhlw = await createUser(server, { role: 'mhlw', name: '厚労 一郎' });
    const operator = await createUser(server, { role: 'operator', name: '運用 次郎' });

    await t.step('mhlw: first login → menu → 管理者権限のユーザID申請リスト', async () => {
      await page.goto(`${server.url}/login`);
      await submitLogin(page, mhlw.user_id, mhlw.initial_password);
      assertEqual(new URL(page.url()).pathname, '/account/password', 'page after first login');
      await submitPasswordChange(page, mhlw.initial_password, GOOD_PASSWORD);
      assertEqual(new URL(page.url()).pathname, '/', 'page after the password change');
      await menuLink(page, '管理者権限のユーザID申請リスト');
      assertEqual(pathOf(page), '/admin-lists', 'page of the menu link');
      await page.getByRole('heading', { level: 1, name: '管理者権限のユーザID申請リスト' }).waitFor();
      await check('admin lists page (empty)');
    });

    await t.step('upload a list with a wrong check digit → error table with row and column B', async () => {
      await page.getByLabel('申請リストのファイル（.xlsx）').setInputFiles(badXlsx);
      await clickAndWait(page, page.getByRole('button', { name: 'アップロード' }));
      assertEqual(new URL(page.url()).pathname, '/admin-lists', 'page after a refused upload');
      const table = page.getByRole('region', { name: '申請リストの誤り' });
      await table.waitFor({ state: 'visible' });
      const rows = await table.locator('tbody tr').evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
      assert(rows.length >= 1, 'the error table has no row');
      const colB = rows.find((r) => r[1] === 'B');
      assert(colB, `no error for column B in the table: ${JSON.stringify(rows)}`);
      assertEqual(colB[0], '2', `row number of the column B error (${JSON.stringify(colB)})`);
      assert(/地方公共団体コード/.test(colB[2] + colB[3]), `column B error does not name 地方公共団体コード: ${JSON.stringify(colB)}`);
      t.log(`    error: ${colB.join(' | ')}`);
      const listed = await page.getByRole('region', { name: '登録済みの申請リスト' }).innerText();
      assert(listed.includes('申請リストはまだありません'), `a refused list was stored:\n${listed}`);
      await check('admin lists page (error table)');
    });

    let detailPath;
    await t.step('upload the good list → detail page (申請中)', async () => {
      await page.getByLabel('申請リストのファイル（.xlsx）').setInputFiles(goodXlsx);
      await clickAndWait(page, page.getByRole('button', { name: 'アップロード' }));
      detailPath = new URL(page.url()).pathname;
      assert(/^\/admin-lists\/\d+$/.test(detailPath), `page after the upload: ${pathOf(page)}`);
      await page.getByRole('heading', { level: 1, name: /申請中/ }).waitFor();
      const rows = await page.getByRole('region', { name: '申請内容' }).innerText();
      for (const v of [ADMIN.code, ADMIN.municipality, ADMIN.name, ADMIN.email, '新規', '100-8511']) {
        assert(rows.includes(v), `the detail page does not show ${v}:\n${rows}`);
      }
      await check('admin list detail (submitted)');
    });

    await t.step('承認する → the confirmation page → 承認する → 承認済', async () => {
      await clickAndWait(page, page.getByRole('button', { name: '承認する' }));
      assertEqual(new URL(page.url()).pathname, `${detailPath}/approve`, 'the confirmation of 承認');
      await page.getByRole('heading', { level: 1, name: '申請リストの承認の確認' }).waitFor();
      const text = await page.locator('main').innerText();
      assert(text.includes('次の申請リストを承認します') && text.includes('運用事業者に払出しを依頼します'),
        `the confirmation of 承認:\n${text}`);
      await check('confirmation (承認)');
      await clickAndWait(page, page.getByRole('button', { name: '承認する' }));
      assertEqual(new URL(page.url()).pathname, detailPath, 'page after approval');
      await page.getByRole('heading', { level: 1, name: /承認済/ }).waitFor();
      const notice = await page.locator('.notice').innerText();
      assert(notice.includes('承認しました'), `notice after approval: ${notice}`);
      await check('admin list detail (approved)');
      await logout(page);
    });

    let issuedUserId;
    await t.step('operator: first login → list → 払出しを実行する → new ユーザID shown', async () => {
      await page.goto(`${server.url}/login`);
      await submitLogin(page, operator.user_id, operator.initial_password);
      await submitPasswordChange(page, operator.initial_password, GOOD_PASSWORD);
      assertEqual(new URL(page.url()).pathname, '/', 'operator page after the password change');
      await menuLink(page, '管理者権限のユーザID申請リスト');
      await clickAndWait(page, page.locator(`a[href="${detailPath}"]`));
      assertEqual(new URL(page.url()).pathname, detailPath, 'operator on the detail page');
      await clickAndWait(page, page.getByRole('button', { name: '払出しを実行する' }));
      assertEqual(new URL(page.url()).pathname, `${detailPath}/issue`, 'the confirmation of 払出し');
      await page.getByRole('heading', { level: 1, name: '自治体管理者ユーザの払出しの確認' }).waitFor();
      await clickAndWait(page, page.getByRole('button', { name: '払出しを実行する' }));
      assertEqual(new URL(page.url()).pathname, detailPath, 'page after 払出し');
      await page.getByRole('heading', { level: 1, name: /払出し済/ }).waitFor();
      const rows = await page.getByRole('region', { name: '申請内容' }).innerText();
      issuedUserId = (rows.match(/ユーザID\s*([0-9A-Za-z]+)/) || [])[1];
      assert(issuedUserId, `no ユーザID on the detail page after 払出し:\n${rows}`);
      t.log(`    issued ${issuedUserId}`);
      await check('admin list detail (issued)');
      assertEqual(await page.getByRole('button', { name: '払出しを実行する' }).count(), 0,
        'the 払出し button is still offered after 払出し');
      await logout(page);
    });

    let mailed;
    await t.step('the mail in DATA/mail holds the user ID and the initial password', async () => {
      mailed = await readMailedCredentials(server.dataDir, ADMIN.email);
      assertEqual(mailed.userId, issuedUserId, `user ID in ${mailed.file}`);
      assert(mailed.text.includes(ADMIN.name), `${mailed.file} does not address ${ADMIN.name}:\n${mailed.text}`);
      assert(mailed.text.includes(server.url) || /https?:\/\//.test(mailed.text),
        `${mailed.file} has no login URL:\n${mailed.text}`);
    });

    await t.step('municipal admin: login with the mailed password → forced change → menu', async () => {
      await page.goto(`${server.url}/login`);
      await submitLogin(page, mailed.userId, mailed.password);
      assertEqual(new URL(page.url()).pathname, '/account/password', 'page after the first login');
      await submitPasswordChange(page, mailed.password, ADMIN_PASSWORD);
      assertEqual(new URL(page.url()).pathname, '/', 'page after the password change');
      await page.getByRole('heading', { level: 1, name: 'メニュー' }).waitFor();
    });

    await t.step('自治体ユーザ新規登録 (empty, then submitted empty → field errors)', async () => {
      await menuLink(page, '自治体ユーザ新規登録');
      assertEqual(pathOf(page), '/muni-users/new', 'page of the menu link');
      await page.getByRole('heading', { level: 1, name: '自治体ユーザ新規登録' }).waitFor();
      const intro = await page.locator('main').innerText();
      assert(intro.includes(ADMIN.municipality), `the form does not name ${ADMIN.municipality}`);
      await check('自治体ユーザ新規登録 (empty)');
      await clickAndWait(page, page.getByRole('button', { name: '登録' }));
      assertEqual(new URL(page.url()).pathname, '/muni-users/new', 'page after an empty submit');
      await page.locator('.error-summary').waitFor({ state: 'visible' });
      // 難病/小慢 and 権限 are radios with a default choice, so only the three text fields fail.
      for (const id of ['name', 'name_kana', 'email']) {
        assert(await page.locator(`#${id}-error`).count() === 1, `no field error #${id}-error after an empty submit`);
        assert(await page.locator(`.error-summary a[href="#${id}"]`).count() === 1,
          `the error summary has no link to #${id}`);
        assertEqual(await page.locator(`#${id}`).getAttribute('aria-invalid'), 'true', `aria-invalid on #${id}`);
      }
      await check('自治体ユーザ新規登録 (field errors)');
    });

    let staffUserId;
    await t.step('register a staff user → 自治体ユーザ検索 with the notice', async () => {
      await page.getByLabel('氏名（必須）').fill(STAFF.name);
      await page.getByLabel('氏名カナ（必須）').fill(STAFF.kana);
      await page.getByLabel('メールアドレス（必須）').fill(STAFF.email);
      await page.getByLabel('部署名').fill(STAFF.department);
      await page.getByRole('group', { name: '難病/小慢（必須）' }).getByLabel('難病').check();
      await page.getByRole('group', { name: '権限（必須）' }).getByLabel('自治体職員').check();
      await clickAndWait(page, page.getByRole('button', { name: '登録' }));
      assertEqual(new URL(page.url()).pathname, '/muni-users', `page after registration (${pathOf(page)})`);
      await page.getByRole('heading', { level: 1, name: '自治体ユーザ検索' }).waitFor();
      const notice = (await page.locator('.notice').innerText()).trim();
      staffUserId = (notice.match(/ユーザID\s*([0-9A-Za-z]+)/) || [])[1];
      assert(notice.includes('自治体ユーザを登録しました') && staffUserId, `success notice: ${notice}`);
      t.log(`    registered ${staffUserId}`);
      const results = await page.getByRole('region', { name: '検索結果' }).innerText();
      assert(results.includes(staffUserId) && results.includes(STAFF.name), `the new user is not listed:\n${results}`);
      await check('自治体ユーザ検索 (with results)');
    });

    await t.step('IDパスワード通知書ダウンロード → PDF with the ID and name (pdftotext)', async () => {
      const row = page.getByRole('row').filter({ hasText: staffUserId });
      assertEqual(await row.count(), 1, `rows with ${staffUserId}`);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        row.getByRole('link', { name: /IDパスワード通知書ダウンロード/ }).click(),
      ]);
      const failure = await download.failure();
      assert(!failure, `download failed: ${failure}`);
      const pdf = join(work, 'notice.pdf');
      await download.saveAs(pdf);
      const head = (await readFile(pdf)).subarray(0, 5).toString('latin1');
      assertEqual(head, '%PDF-', 'start of the downloaded file');
      const { stdout: text } = await execFileP('pdftotext', [pdf, '-']);
      const flat = text.replace(/[ \t\u3000]+/g, ' ');
      for (const want of ['難病・小慢DB IDPW発行通知書', staffUserId]) {
        assert(flat.includes(want) || text.replace(/\s+/g, '').includes(want.replace(/\s+/g, '')),
          `the notice PDF lacks "${want}":\n${text}`);
      }
      const nameSama = `${STAFF.name}様`.replace(/\s+/g, '');
      assert(text.replace(/\s+/g, '').includes(nameSama),
        `the notice PDF lacks "${STAFF.name} 様":\n${text}`);
      t.log(`    ${download.suggestedFilename()} (${text.split('\n').filter(Boolean).length} text lines)`);
      // Printing sets the notice status to 発行済 (issue 3, item 5).
      await page.reload({ waitUntil: 'load' });
      const after = await page.getByRole('row').filter({ hasText: staffUserId }).innerText();
      assert(after.includes('発行済'), `the notice status is not 発行済 after the download: ${after}`);
    });

  });
}
