// Flow II in Chromium (issue 4, item 8): a municipal staff user (municipality and user made with
// the CLI) logs in, changes the forced password and registers medical-institution users:
// 医療機関ユーザ新規登録, tab 個別登録 (one designated doctor, fields filled by their labels; an
// empty submit shows the error summary first) and tab 一括登録 (a five-row CSV chosen with the
// file input → result page with five user IDs; a bad CSV → error table by row and column). Then
// 医療機関ユーザ検索 by kana typed in hiragana, two rows ticked, IDパスワード通知書一括出力: the
// downloaded PDF has two pages (pdfinfo) with both user IDs in the order shown (pdftotext), and
// after a reload both rows are 発行済（初期パスワード）. Every new page state must have no axe-core
// violation (WCAG 2.1 A/AA) and no horizontal scroll at 1280×800 and 375×740; console errors fail.
//
// NSDB_A11Y_CONTINUE=1 collects axe violations and scroll problems instead of stopping at the
// first one, and fails at the end with all of them (for reporting template problems in one go).

import { execFile } from 'node:child_process';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import {
  createUser, loginAndChangePassword, pathOf, addMunicipality, institutionCode, assert,
  assertEqual, runFlow,
} from './lib.mjs';

const execFileP = promisify(execFile);

export const description = 'Flow II: 個別登録 → 一括登録 (CSV) → search by kana → ticked rows → bulk notice PDF';

const MUNICIPALITY = { code: '131016', name: '千代田区' };
const CSV_HEADER = '医療機関コード,医療機関名,医療機関郵便番号,医療機関所在地,医療機関電話番号,ユーザ種別,氏名,氏名カナ,難病/小慢,指定医番号,診療科,メールアドレス';

// 個別登録: one designated doctor of a new institution.
const SINGLE = {
  inst_code: institutionCode('131234567'),
  inst_name: '千代田中央病院',
  inst_postal: '100-0001',
  inst_address: '東京都千代田区千代田1-1',
  inst_phone: '03-1234-5678',
  name: '田中 一郎',
  name_kana: 'タナカ イチロウ',
  doctor_number: 'D-120001',
  specialty: '内科',
  email: 'ichiro.tanaka@example.jp',
};

// 一括登録: five users of two institutions; the two サトウ are found by the hiragana search.
const INST_A = [institutionCode('131000001'), '神田総合病院', '101-0047', '東京都千代田区内神田2-1-1', '03-3251-0001'];
const INST_B = [institutionCode('131000002'), '九段クリニック', '102-0074', '東京都千代田区九段南3-2-1', '03-3261-0002'];
const BULK_ROWS = [
  [...INST_A, '指定医', '佐藤 花子', 'サトウ ハナコ', '難病', 'D-200001', '神経内科', 'hanako.sato@example.jp'],
  [...INST_A, '指定医', '佐藤 次郎', 'サトウ ジロウ', '両方', 'D-200002', '小児科', ''],
  [...INST_A, '指定医', '鈴木 三郎', 'スズキ サブロウ', '小慢', 'D-200003', '小児科', ''],
  [...INST_B, '責任者', '高橋 四郎', 'タカハシ シロウ', '難病', '', '', 'shiro@example.jp'],
  [...INST_B, '指定医', '伊藤 五月', 'イトウ サツキ', '難病', 'D-200005', '内科', ''],
];
const KANA_QUERY = 'さとう'; // typed in hiragana; the search compares in katakana
const KANA_MATCHES = ['佐藤 花子', '佐藤 次郎'];

// A bad file: data row 1 (CSV row 2) has a wrong check digit, data row 2 (CSV row 3) has a kana
// in kanji, data row 3 (CSV row 4) is a 指定医 without 指定医番号.
const BAD_CODE = INST_A[0].slice(0, 9) + String((Number(INST_A[0][9]) + 1) % 10);
const BAD_ROWS = [
  [BAD_CODE, ...INST_A.slice(1), '指定医', '山本 六郎', 'ヤマモト ロクロウ', '難病', 'D-300001', '', ''],
  [...INST_A, '指定医', '中村 七子', '中村 七子', '難病', 'D-300002', '', ''],
  [...INST_A, '指定医', '小林 八郎', 'コバヤシ ハチロウ', '難病', '', '', ''],
];
const BAD_EXPECTED = [
  { row: '2', column: /^1（医療機関コード）$/ },
  { row: '3', column: /^8（氏名カナ）$/ },
  { row: '4', column: /^10（指定医番号）$/ },
];

const csvCell = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const csvText = (rows) => [CSV_HEADER, ...rows.map((r) => r.map(csvCell).join(','))].join('\r\n') + '\r\n';
const squash = (s) => s.replace(/\s+/g, '');

async function clickAndWait(page, locator) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
}

/** Follows a link of the menu page's list. */
async function menuLink(page, name) {
  await clickAndWait(page, page.locator('main').getByRole('link', { name, exact: true }));
}

/** Follows a link of the site navigation (the menu's links, on every page). */
async function navLink(page, name) {
  await clickAndWait(page, page.getByRole('navigation', { name: 'メニュー' }).getByRole('link', { name, exact: true }));
}

/** The rows of a table region as arrays of cell texts. */
async function tableRows(region) {
  return region.locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
}

/** The user IDs (<code>) of a results table, in the order shown. */
async function shownUserIds(region) {
  return region.locator('tbody tr td code').allInnerTexts();
}

export default async function flow2Test(t) {
  await runFlow(t, 'nsdb-flow2-', async ({ work, server, context, page, check }) => {
    const goodCsv = join(work, 'inst-users.csv');
    const badCsv = join(work, 'inst-users-bad.csv');
    await writeFile(goodCsv, '\ufeff' + csvText(BULK_ROWS)); // as Excel's "CSV UTF-8" saves it
    await writeFile(badCsv, csvText(BAD_ROWS));

    let staff;
    await t.step('nsdb municipality add + nsdb user add --role muni_staff', async () => {
      await addMunicipality(server, MUNICIPALITY);
      staff = await createUser(server, {
        role: 'muni_staff', name: '千代田 職員', extra: ['--municipality', MUNICIPALITY.code],
      });
    });

    await t.step('staff: first login → forced password change → menu', async () => {
      await loginAndChangePassword(page, server, staff);
      await page.getByRole('heading', { level: 1, name: 'メニュー' }).waitFor();
    });

    await t.step('医療機関ユーザ新規登録, tab 個別登録 (empty)', async () => {
      await menuLink(page, '医療機関ユーザ新規登録');
      assertEqual(pathOf(page), '/inst-users/new', 'page of the menu link');
      await page.getByRole('heading', { level: 1, name: '医療機関ユーザ新規登録' }).waitFor();
      const tab = page.getByRole('navigation', { name: '登録方法' }).getByRole('link', { name: '個別登録' });
      assertEqual(await tab.getAttribute('aria-current'), 'page', 'aria-current of the 個別登録 tab');
      await check('医療機関ユーザ新規登録 個別登録 (empty)');
    });

    await t.step('個別登録 submitted empty → error summary and field errors', async () => {
      await clickAndWait(page, page.getByRole('button', { name: '登録', exact: true }));
      assertEqual(new URL(page.url()).pathname, '/inst-users/new', 'page after an empty submit');
      const summary = page.locator('.error-summary');
      await summary.waitFor({ state: 'visible' });
      // ユーザ種別 (指定医) and 難病/小慢 (難病) are radios with a default; 診療科 and メールアドレス are
      // optional; 指定医番号 is required for a 指定医.
      const ids = ['inst_code', 'inst_name', 'inst_postal', 'inst_address', 'inst_phone', 'name',
        'name_kana', 'doctor_number'];
      for (const id of ids) {
        assert(await page.locator(`#${id}-error`).count() === 1, `no field error #${id}-error after an empty submit`);
        assert(await summary.locator(`a[href="#${id}"]`).count() === 1, `the error summary has no link to #${id}`);
        assertEqual(await page.locator(`#${id}`).getAttribute('aria-invalid'), 'true', `aria-invalid on #${id}`);
      }
      for (const id of ['specialty', 'email']) {
        assertEqual(await page.locator(`#${id}-error`).count(), 0, `field error #${id}-error for an optional field`);
      }
      await check('医療機関ユーザ新規登録 個別登録 (field errors)');
    });

    let singleId;
    await t.step('個別登録: fill the fields by label → 登録 → 医療機関ユーザ検索 with the notice', async () => {
      await page.getByLabel('医療機関コード（必須）').fill(SINGLE.inst_code);
      await page.getByLabel('医療機関名（必須）').fill(SINGLE.inst_name);
      await page.getByLabel('医療機関郵便番号（必須）').fill(SINGLE.inst_postal);
      await page.getByLabel('医療機関所在地（必須）').fill(SINGLE.inst_address);
      await page.getByLabel('医療機関電話番号（必須）').fill(SINGLE.inst_phone);
      await page.getByRole('group', { name: 'ユーザ種別（必須）' }).getByLabel('指定医', { exact: true }).check();
      await page.getByLabel('氏名（必須）', { exact: true }).fill(SINGLE.name);
      await page.getByLabel('氏名カナ（必須）', { exact: true }).fill(SINGLE.name_kana);
      await page.getByRole('group', { name: '難病/小慢（必須）' }).getByLabel('難病', { exact: true }).check();
      await page.getByLabel('指定医番号', { exact: true }).fill(SINGLE.doctor_number);
      await page.getByLabel('診療科', { exact: true }).fill(SINGLE.specialty);
      await page.getByLabel('メールアドレス', { exact: true }).fill(SINGLE.email);
      await clickAndWait(page, page.getByRole('button', { name: '登録', exact: true }));
      assertEqual(new URL(page.url()).pathname, '/inst-users', `page after registration (${pathOf(page)})`);
      await page.getByRole('heading', { level: 1, name: '医療機関ユーザ検索' }).waitFor();
      const notice = (await page.locator('.notice').innerText()).trim();
      singleId = (notice.match(/ユーザID\s*([0-9A-Z]{12})/) || [])[1];
      assert(notice.includes('医療機関ユーザを登録しました') && singleId, `success notice: ${notice}`);
      t.log(`    registered ${singleId}`);
      const results = await page.getByRole('region', { name: '検索結果' }).innerText();
      for (const want of [singleId, SINGLE.name, SINGLE.inst_name, SINGLE.inst_code, '未発行']) {
        assert(results.includes(want), `the search results do not show ${want}:\n${results}`);
      }
      await check('医療機関ユーザ検索 (after 個別登録)');
    });

    await t.step('tab 一括登録 (empty)', async () => {
      await navLink(page, '医療機関ユーザ新規登録');
      await clickAndWait(page, page.getByRole('navigation', { name: '登録方法' }).getByRole('link', { name: '一括登録' }));
      assertEqual(pathOf(page), '/inst-users/new?tab=bulk', 'page of the 一括登録 tab');
      await page.getByRole('heading', { level: 2, name: '一括登録', exact: true }).waitFor();
      await check('医療機関ユーザ新規登録 一括登録 (empty)');
    });

    let bulkIds;
    await t.step('一括登録: choose a 5-row CSV → アップロード → result page with 5 user IDs', async () => {
      await page.getByLabel('一括登録ファイル（参照）').setInputFiles(goodCsv);
      await clickAndWait(page, page.getByRole('button', { name: 'アップロード' }));
      assert(/^\/inst-users\/import\/\d+$/.test(new URL(page.url()).pathname), `page after the upload: ${pathOf(page)}`);
      await page.getByRole('heading', { level: 1, name: '一括登録の結果' }).waitFor();
      const notice = (await page.locator('.notice').innerText()).trim();
      assert(notice.includes('5 人'), `result notice: ${notice}`);
      const region = page.getByRole('region', { name: '登録したユーザ' });
      const rows = await tableRows(region);
      assertEqual(rows.length, BULK_ROWS.length, 'rows on the result page');
      bulkIds = await shownUserIds(region);
      assertEqual(bulkIds.length, BULK_ROWS.length, 'user IDs on the result page');
      assertEqual(new Set(bulkIds).size, bulkIds.length, 'distinct user IDs on the result page');
      for (const id of bulkIds) assert(/^[0-9A-Z]{12}$/.test(id), `not a user ID: ${id}`);
      BULK_ROWS.forEach((r, i) => {
        assert(squash(rows[i].join(' ')).includes(squash(r[6])), `result row ${i + 1} is not ${r[6]}: ${rows[i].join(' | ')}`);
      });
      t.log(`    registered ${bulkIds.join(' ')}`);
      await check('一括登録の結果');
    });

    await t.step('一括登録: a bad CSV → error table (row, column), nothing registered', async () => {
      await navLink(page, '医療機関ユーザ新規登録');
      await clickAndWait(page, page.getByRole('navigation', { name: '登録方法' }).getByRole('link', { name: '一括登録' }));
      await page.getByLabel('一括登録ファイル（参照）').setInputFiles(badCsv);
      await clickAndWait(page, page.getByRole('button', { name: 'アップロード' }));
      assertEqual(new URL(page.url()).pathname, '/inst-users/import', 'page after a refused upload');
      await page.locator('.error-summary').waitFor({ state: 'visible' });
      const region = page.getByRole('region', { name: /一括登録ファイルの誤り/ });
      await region.waitFor({ state: 'visible' });
      const rows = await tableRows(region);
      for (const want of BAD_EXPECTED) {
        const hit = rows.find((r) => r[1] === want.row && want.column.test(r[2]));
        assert(hit, `no error for row ${want.row}, column ${want.column} in the table:\n${rows.map((r) => r.join(' | ')).join('\n')}`);
        assert(hit[3].length > 0, `no reason for row ${want.row}: ${hit.join(' | ')}`);
        t.log(`    error: ${hit.join(' | ')}`);
      }
      assertEqual(rows.length, BAD_EXPECTED.length, `rows of the error table:\n${rows.map((r) => r.join(' | ')).join('\n')}`);
      assertEqual(await page.getByRole('heading', { level: 2, name: '一括登録', exact: true }).count(), 1,
        'the 一括登録 tab is shown again after the refused upload');
      await check('医療機関ユーザ新規登録 一括登録 (error table)');
    });

    let picked;
    await t.step('医療機関ユーザ検索: kana typed in hiragana → the two サトウ', async () => {
      await navLink(page, '医療機関ユーザ検索');
      assertEqual(pathOf(page), '/inst-users', 'page of the menu link');
      const all = await shownUserIds(page.getByRole('region', { name: '検索結果' }));
      for (const id of [singleId, ...bulkIds]) assert(all.includes(id), `${id} is not listed without a query (${all.join(' ')})`);
      assertEqual(all.length, 1 + BULK_ROWS.length, 'users listed without a query (the bad file registered nothing)');
      await page.getByLabel('氏名・カナ・ユーザID').fill(KANA_QUERY);
      await clickAndWait(page, page.getByRole('search').getByRole('button', { name: '検索' }));
      assertEqual(new URL(page.url()).searchParams.get('q'), KANA_QUERY, 'q of the search URL');
      const region = page.getByRole('region', { name: '検索結果' });
      const rows = await tableRows(region);
      const text = rows.map((r) => r.join(' | ')).join('\n');
      assertEqual(rows.length, KANA_MATCHES.length, `rows found by ${KANA_QUERY}:\n${text}`);
      for (const name of KANA_MATCHES) assert(squash(text).includes(squash(name)), `${name} not found by ${KANA_QUERY}:\n${text}`);
      picked = await shownUserIds(region);
      for (const id of picked) assert(bulkIds.includes(id), `${id} found by ${KANA_QUERY} is not from the bulk file`);
      assert(rows.every((r) => r.join(' ').includes('未発行')), `the found users are not 未発行:\n${text}`);
      await check('医療機関ユーザ検索 (kana search results)');
    });

    await t.step('tick both rows → IDパスワード通知書一括出力 → PDF of 2 pages, IDs in order', async () => {
      const region = page.getByRole('region', { name: '検索結果' });
      for (const id of picked) {
        const box = region.getByRole('row').filter({ hasText: id }).getByRole('checkbox');
        assertEqual(await box.count(), 1, `checkboxes in the row of ${id}`);
        await box.check();
      }
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'IDパスワード通知書一括出力' }).click(),
      ]);
      const failure = await download.failure();
      assert(!failure, `download failed: ${failure}`);
      const pdf = join(work, 'notices.pdf');
      await download.saveAs(pdf);
      const head = (await readFile(pdf)).subarray(0, 5).toString('latin1');
      assertEqual(head, '%PDF-', 'start of the downloaded file');
      const { stdout: info } = await execFileP('pdfinfo', [pdf]);
      const pages = Number((info.match(/^Pages:\s*(\d+)/m) || [])[1]);
      assertEqual(pages, picked.length, `pages of the bulk PDF (pdfinfo:\n${info})`);
      const { stdout: text } = await execFileP('pdftotext', ['-layout', pdf, '-']);
      const pageTexts = text.split('\f').filter((p) => p.trim());
      assertEqual(pageTexts.length, picked.length, 'pages with text (pdftotext)');
      picked.forEach((id, i) => {
        assert(pageTexts[i].includes(id), `page ${i + 1} of the bulk PDF does not hold ${id}:\n${pageTexts[i]}`);
        assert(squash(pageTexts[i]).includes('難病・小慢DBIDPW発行通知書'), `page ${i + 1} has no title:\n${pageTexts[i]}`);
      });
      const flat = squash(text);
      assert(flat.indexOf(picked[0]) < flat.indexOf(picked[1]), `the IDs are not in the order shown (${picked.join(', ')})`);
      t.log(`    ${download.suggestedFilename()}: ${pages} pages, ${picked.join(' → ')}`);
    });

    await t.step('after a reload the two rows are 発行済（初期パスワード）, the others 未発行', async () => {
      await page.reload({ waitUntil: 'load' });
      const region = page.getByRole('region', { name: '検索結果' });
      for (const id of picked) {
        const row = await region.getByRole('row').filter({ hasText: id }).innerText();
        assert(row.includes('発行済（初期パスワード）'), `the notice status of ${id} after the bulk PDF: ${row}`);
        // Still printable while 発行済 (SPEC §2 Flow II ⑥).
        assertEqual(await region.getByRole('row').filter({ hasText: id }).getByRole('checkbox').count(), 1,
          `checkbox of the 発行済 row ${id}`);
      }
      await page.getByLabel('氏名・カナ・ユーザID').fill('');
      await clickAndWait(page, page.getByRole('search').getByRole('button', { name: '検索' }));
      const rows = await tableRows(page.getByRole('region', { name: '検索結果' }));
      const others = rows.filter((r) => !picked.some((id) => r.join(' ').includes(id)));
      assertEqual(others.length, 1 + BULK_ROWS.length - picked.length, 'rows not printed');
      for (const r of others) assert(r.join(' ').includes('未発行'), `a row not printed is not 未発行: ${r.join(' | ')}`);
      await check('医療機関ユーザ検索 (after the bulk PDF)');
    });

    await t.step('/forms (医療機関ユーザデータファイル等ダウンロード)', async () => {
      await navLink(page, '医療機関ユーザデータファイル等ダウンロード');
      assertEqual(pathOf(page), '/forms', 'page of the menu link');
      await page.getByRole('heading', { level: 1, name: '医療機関ユーザデータファイル等ダウンロード' }).waitFor();
      const csv = await page.evaluate(async () => {
        const a = [...document.querySelectorAll('main a')].find((x) => x.getAttribute('href') === '/forms/inst-users.csv');
        if (!a) return null;
        const r = await fetch(a.href);
        return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
      });
      assert(csv, 'no link to /forms/inst-users.csv');
      assertEqual(csv.status, 200, 'status of /forms/inst-users.csv');
      assert(csv.text.replace(/^\ufeff/, '').startsWith(CSV_HEADER), `the CSV template does not start with the header:\n${csv.text.slice(0, 300)}`);
      await check('/forms');
    });

  });
}
