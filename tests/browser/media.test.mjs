// Media cycle in Chromium (issue 5, items 4–5): a municipal staff user (municipality and user made
// with the CLI) registers three institutions (一括登録 CSV, posted from the page); the operator's
// work is done with the CLI (`nsdb media build`, `nsdb package build`, `nsdb package ship` with the
// Letter Pack's number; shipping.test.mjs does it on the screens), so a shipped package waits
// on 媒体受領. The staff member records the receipt (受領を記録する), downloads the passphrase sheet
// that then appears (pdftotext: one 20-character passphrase per media), sends one media to its
// institution with a date (医療機関へ送付 → 医療機関へ送付済) and reports another as damaged with a
// note (破損連絡 → 破損（再発行待ち）). Then the operator opens 媒体送付サイクル (/cycles), adjusts a
// cycle through its form and follows the link to the status board (/operator/media), whose counts
// show the staff member's steps. Every page state must have no axe-core violation (WCAG 2.1 A/AA)
// and no horizontal scroll at 1280×800 and 375×740; console errors fail.
//
// NSDB_A11Y_CONTINUE=1 collects axe violations and scroll problems instead of stopping at the
// first one, and fails at the end with all of them (for reporting template problems in one go).

import { execFile } from 'node:child_process';
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, dirname } from 'node:path';
import { promisify } from 'node:util';

import {
  createUser, loginAndChangePassword, pathOf, addMunicipality, institutionCode, nsdbJson, assert,
  assertEqual, runFlow,
} from './lib.mjs';

const execFileP = promisify(execFile);

export const description = '媒体受領: receipt → passphrase PDF → 医療機関へ送付 / 破損連絡; operator /cycles and /operator/media';

const MUNICIPALITY = {
  code: '131016', name: '千代田区', postal: '100-8511', address: '東京都千代田区九段南1-2-1',
};
const CSV_HEADER = '医療機関コード,医療機関名,医療機関郵便番号,医療機関所在地,医療機関電話番号,ユーザ種別,氏名,氏名カナ,難病/小慢,指定医番号,診療科,メールアドレス';
const INSTITUTIONS = [
  [institutionCode('131000101'), '神田媒体病院', '101-0047', '東京都千代田区内神田2-1-1', '03-3251-0101'],
  [institutionCode('131000102'), '九段媒体クリニック', '102-0074', '東京都千代田区九段南3-2-1', '03-3261-0102'],
  [institutionCode('131000103'), '番町媒体医院', '102-0082', '東京都千代田区一番町1-1', '03-3261-0103'],
];
const ROWS = [
  [...INSTITUTIONS[0], '指定医', '佐藤 一郎', 'サトウ イチロウ', '難病', 'D-500001', '内科', ''],
  [...INSTITUTIONS[1], '指定医', '鈴木 二郎', 'スズキ ジロウ', '小慢', 'D-500002', '小児科', ''],
  [...INSTITUTIONS[2], '指定医', '高橋 三子', 'タカハシ ミツコ', '両方', 'D-500003', '神経内科', ''],
];
const PASSPHRASE = /(?<![0-9A-Z])[2-9A-HJKMNP-Z]{20}(?![0-9A-Z])/g;
const DAMAGE_NOTE = 'ディスクにひびが入っていた';

const csvText = (rows) => [CSV_HEADER, ...rows.map((r) => r.join(','))].join('\r\n') + '\r\n';

/** Today in Japan (YYYY-MM-DD), plus days. */
function jstDay(days = 0) {
  return new Date(Date.now() + 9 * 3600e3 + days * 86400e3).toISOString().slice(0, 10);
}

async function clickAndWait(page, locator) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
}

/** Follows a link of the menu page's list. */
async function menuLink(page, name) {
  await clickAndWait(page, page.locator('main').getByRole('link', { name, exact: true }));
}

/** The table row of a media on /media (first cell: 媒体番号). */
function mediaRow(page, id) {
  return page.locator('main tbody tr').filter({ has: page.locator('td:first-child', { hasText: new RegExp(`^${id}$`) }) });
}

/** A row's button: its visible label and the media number in visually hidden text (Chromium puts
 *  a space between them in the accessible name). */
function buttonName(label, id) {
  return new RegExp(`^${label}\\s*（媒体 ${id}）$`);
}

async function mediaStatus(page, id) {
  const row = mediaRow(page, id);
  assertEqual(await row.count(), 1, `rows of media ${id}`);
  return (await row.locator('td').nth(3).innerText()).trim();
}

/** A small media template (the real one holds manuals, a video, the check tool, the VPN client). */
async function makeTemplate(dir) {
  const files = {
    'マニュアル/操作マニュアル.pdf': randomBytes(32 * 1024),
    'VPN/vpnclient-setup.msi': randomBytes(16 * 1024),
    'はじめにお読みください.txt': Buffer.from('難病・小慢DB 医療機関用媒体\r\n'),
  };
  for (const [rel, data] of Object.entries(files)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), data);
  }
  return dir;
}

export default async function mediaTest(t) {
  await runFlow(t, 'nsdb-media-', async ({ work, server, context, page, check }) => {
    const template = await makeTemplate(join(work, 'template'));
    let staff, operator;
    await t.step('nsdb municipality add (郵便番号, 所属先住所) + muni_staff + operator', async () => {
      await addMunicipality(server, {
        code: MUNICIPALITY.code, name: MUNICIPALITY.name,
        extra: ['--postal', MUNICIPALITY.postal, '--address', MUNICIPALITY.address],
      });
      staff = await createUser(server, {
        role: 'muni_staff', name: '千代田 媒体係', extra: ['--municipality', MUNICIPALITY.code],
      });
      operator = await createUser(server, { role: 'operator', name: '運用 媒体' });
    });

    await t.step('staff: first login → forced password change → 一括登録 of three institutions', async () => {
      await loginAndChangePassword(page, server, staff);
      await page.goto(`${server.url}/inst-users/new?tab=bulk`);
      const status = await page.evaluate(async (csv) => {
        const csrf = document.querySelector('input[name="csrf"]').value;
        const form = new FormData();
        form.append('csrf', csrf);
        form.append('file', new Blob(['\ufeff' + csv], { type: 'text/csv' }), '指定医一括登録.csv');
        const r = await fetch('/inst-users/import', { method: 'POST', body: form, redirect: 'manual' });
        return r.type === 'opaqueredirect' ? 303 : r.status;
      }, csvText(ROWS));
      assertEqual(status, 303, 'answer to the 一括登録 upload');
    });

    await t.step('媒体受領 before anything was shipped: no package', async () => {
      await page.goto(`${server.url}/media`);
      await page.getByRole('heading', { level: 1, name: '媒体受領' }).waitFor();
      const text = await page.locator('main').innerText();
      assert(text.includes('届いている梱包はありません'), `empty 媒体受領 page:\n${text}`);
      await check('媒体受領 (no package)');
    });

    let pkg;
    let mediaIds;
    await t.step('operator (CLI): media build + package build + package ship for today\'s cycle → one package', async () => {
      const today = jstDay();
      const cycles = await nsdbJson(server, ['cycle', 'list', '--json', '--from', jstDay(-60)]);
      const cycle = cycles.find((c) => c.registration_to >= today);
      assert(cycle, `no cycle for ${today}`);
      const built = await nsdbJson(server, ['media', 'build', '--cycle', cycle.id, '--template', template, '--json']);
      assertEqual(built.length, INSTITUTIONS.length, `media built for ${cycle.id}`);
      const packages = await nsdbJson(server, ['package', 'build', '--cycle', cycle.id, '--json']);
      assertEqual(packages.length, 1, 'packages');
      [pkg] = packages;
      assertEqual(pkg.tracking_number, null, 'packing invents no tracking number');
      pkg.tracking_number = '1234-5678-9013'; // 12345678901 mod 7 = 3
      const shipped = await nsdbJson(server, ['package', 'ship', '--id', String(pkg.package_id),
        '--tracking-number', pkg.tracking_number, '--json']);
      assertEqual(shipped.status, 'shipped', 'package after nsdb package ship');
      mediaIds = [...pkg.media].sort((a, b) => a - b);
      assertEqual(mediaIds.length, 3, 'media in the package');
      t.log(`    cycle ${cycle.id}: package ${pkg.package_id}, tracking ${pkg.tracking_number}, media ${mediaIds.join(', ')}`);
    });

    await t.step('媒体受領 from the menu: the shipped package with its three media', async () => {
      await page.goto(`${server.url}/`);
      await menuLink(page, '媒体受領');
      assertEqual(pathOf(page), '/media', 'page of the menu link');
      await page.getByRole('heading', { level: 1, name: '媒体受領' }).waitFor();
      const heading = await page.getByRole('heading', { level: 2 }).innerText();
      assert(heading.includes(pkg.tracking_number) && heading.includes('発送済'), `package heading: ${heading}`);
      for (const id of mediaIds) assertEqual(await mediaStatus(page, id), '発送済', `status of media ${id}`);
      assertEqual(await page.getByRole('link', { name: /パスフレーズ/ }).count(), 0,
        'the passphrase link is offered before the receipt');
      await check('媒体受領 (shipped package)');
    });

    await t.step('受領を記録する → the confirmation page → 受領を記録する → notice, 受領済, the passphrase PDF link appears', async () => {
      await clickAndWait(page, page.getByRole('button', { name: '受領を記録する' }));
      assert(/^\/media\/packages\/\d+\/receive$/.test(pathOf(page)), `the confirmation of 受領: ${pathOf(page)}`);
      await page.getByRole('heading', { level: 1, name: '梱包の受領の確認' }).waitFor();
      const text = await page.locator('main').innerText();
      for (const [code] of INSTITUTIONS) assert(text.includes(code), `the confirmation lacks institution ${code}:\n${text}`);
      await check('confirmation (受領)');
      await clickAndWait(page, page.getByRole('button', { name: '受領を記録する' }));
      assertEqual(pathOf(page), '/media?done=received', 'page after the receipt');
      const notice = await page.locator('.notice').innerText();
      assert(notice.includes('受領を記録しました'), `notice: ${notice}`);
      const heading = await page.getByRole('heading', { level: 2 }).innerText();
      assert(heading.includes('受領済'), `package heading after the receipt: ${heading}`);
      for (const id of mediaIds) assertEqual(await mediaStatus(page, id), '受領済', `status of media ${id}`);
      assertEqual(await page.getByRole('button', { name: '受領を記録する' }).count(), 0, 'receipt button after the receipt');
      await page.getByRole('link', { name: '証明書のパスフレーズ一覧（PDF）を出力' }).waitFor();
      await check('媒体受領 (received)');
    });

    await t.step('download the passphrase PDF → pdftotext: a 20-character passphrase per media', async () => {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: '証明書のパスフレーズ一覧（PDF）を出力' }).click(),
      ]);
      const failure = await download.failure();
      assert(!failure, `download failed: ${failure}`);
      const pdf = join(work, 'passphrases.pdf');
      await download.saveAs(pdf);
      assertEqual((await readFile(pdf)).subarray(0, 5).toString('latin1'), '%PDF-', 'start of the download');
      const { stdout: text } = await execFileP('pdftotext', ['-enc', 'UTF-8', pdf, '-']);
      const found = text.match(PASSPHRASE) || [];
      assertEqual(found.length, mediaIds.length, `passphrases in the PDF:\n${text}`);
      assertEqual(new Set(found).size, found.length, 'distinct passphrases');
      for (const [code] of INSTITUTIONS) assert(text.includes(code), `the PDF lacks institution ${code}:\n${text}`);
      t.log(`    ${download.suggestedFilename()}: ${found.length} passphrases of ${found[0].length} characters`);
    });

    const [forwarded, damaged] = mediaIds;
    const sentOn = jstDay(-1);
    await t.step('送付日 + 医療機関へ送付 → 医療機関へ送付済 with the date', async () => {
      const row = mediaRow(page, forwarded);
      await row.getByLabel('送付日').fill(sentOn);
      await clickAndWait(page, row.getByRole('button', { name: buttonName('医療機関へ送付', forwarded) }));
      assertEqual(new URL(page.url()).pathname, `/media/${forwarded}/forward`, 'the confirmation of 医療機関へ送付');
      assertEqual(await page.getByLabel('送付日').inputValue(), sentOn, 'the date on the confirmation');
      await clickAndWait(page, page.getByRole('button', { name: '送付を記録する' }));
      assertEqual(pathOf(page), '/media?done=forwarded', 'page after 医療機関へ送付');
      const notice = await page.locator('.notice').innerText();
      assert(notice.includes('医療機関への送付を記録しました'), `notice: ${notice}`);
      const status = await mediaStatus(page, forwarded);
      assert(status.includes('医療機関へ送付済') && status.includes(sentOn), `status of media ${forwarded}: ${status}`);
      assertEqual(await mediaRow(page, forwarded).getByRole('button', { name: /医療機関へ送付/ }).count(), 0,
        'the forward button is still offered');
      await check('媒体受領 (one media forwarded)');
    });

    await t.step('破損の内容 + 破損連絡 → 破損（再発行待ち）', async () => {
      const row = mediaRow(page, damaged);
      await row.getByLabel('破損の内容').fill(DAMAGE_NOTE);
      await clickAndWait(page, row.getByRole('button', { name: buttonName('破損連絡', damaged) }));
      assertEqual(new URL(page.url()).pathname, `/media/${damaged}/damage`, 'the confirmation of 破損連絡');
      assertEqual(await page.getByLabel('破損の内容').inputValue(), DAMAGE_NOTE, 'the note on the confirmation');
      await check('confirmation (破損連絡)');
      await clickAndWait(page, page.getByRole('button', { name: '破損を連絡する' }));
      assertEqual(pathOf(page), '/media?done=damaged', 'page after 破損連絡');
      const notice = await page.locator('.notice').innerText();
      assert(notice.includes('破損を連絡しました'), `notice: ${notice}`);
      const status = await mediaStatus(page, damaged);
      assert(status.includes('破損（再発行待ち）') && status.includes(DAMAGE_NOTE), `status of media ${damaged}: ${status}`);
      assertEqual(await mediaStatus(page, mediaIds[2]), '受領済', 'the third media');
      await check('媒体受領 (one forwarded, one damaged)');
      await clickAndWait(page, page.getByRole('button', { name: 'ログアウト' }));
    });

    let current;
    await t.step('operator: 媒体送付サイクル from the menu', async () => {
      await loginAndChangePassword(page, server, operator);
      await menuLink(page, '媒体送付サイクル');
      assertEqual(pathOf(page), '/cycles', 'page of the menu link');
      await page.getByRole('heading', { level: 1, name: '媒体送付サイクル' }).waitFor();
      current = (await page.getByRole('link', { name: /^現在のサイクル/ }).innerText()).match(/（([\d-]+)）/)?.[1];
      assert(current, 'no link to the current cycle');
      await check('媒体送付サイクル');
    });

    await t.step('日程を変更 (a later cycle): 送付終了 one day later → notice', async () => {
      const rows = page.locator('main tbody tr');
      const n = await rows.count();
      assert(n >= 3, `only ${n} cycles listed`);
      const row = rows.nth(n - 1);
      const id = (await row.locator('td').first().innerText()).trim();
      await row.getByText('日程を変更').click();
      const field = row.getByLabel('送付終了');
      await field.waitFor({ state: 'visible' });
      await check('媒体送付サイクル (a cycle\'s form open)');
      const before = await field.inputValue();
      const after = new Date(Date.parse(`${before}T00:00:00Z`) + 86400e3).toISOString().slice(0, 10);
      await field.fill(after);
      await clickAndWait(page, row.getByRole('button', { name: '変更' }));
      assertEqual(pathOf(page), '/cycles?done=adjusted', 'page after 変更');
      const notice = await page.locator('.notice').innerText();
      assert(notice.includes('変更しました'), `notice: ${notice}`);
      const listed = (await nsdbJson(server, ['cycle', 'list', '--json'])).find((c) => c.id === id);
      assertEqual(listed.delivery_to, after, `delivery_to of ${id} after the change`);
      await check('媒体送付サイクル (adjusted)');
    });

    await t.step('日程を変更 refused (媒体作成開始 inside the registration window) → the form, error at the field', async () => {
      const rows = page.locator('main table[class="table"]').last().locator('tbody tr');
      const row = rows.nth((await rows.count()) - 2);
      await row.getByText('日程を変更').click();
      const start = row.getByLabel('媒体作成開始');
      await start.waitFor({ state: 'visible' });
      await start.fill(await row.getByLabel('登録終了').inputValue());
      await clickAndWait(page, row.getByRole('button', { name: '変更' }));
      await page.locator('.error-summary').waitFor();
      const summary = await page.locator('.error-summary').innerText();
      assert(summary.includes('媒体作成は登録期間の後に始まるようにしてください'), `error summary: ${summary}`);
      const invalid = page.locator('input[aria-invalid="true"]');
      assertEqual(await invalid.count(), 1, 'fields marked invalid');
      assertEqual(await invalid.getAttribute('name'), 'media_from', 'the field in error');
      await check('媒体送付サイクル (an adjustment refused)');
    });

    await t.step('現在のサイクルの媒体の状況 → the board shows the staff member\'s steps', async () => {
      await clickAndWait(page, page.getByRole('link', { name: /^現在のサイクル/ }));
      assertEqual(pathOf(page), `/operator/media?cycle=${current}`, 'page of the link');
      await page.getByRole('heading', { level: 1, name: `媒体の状況（サイクル ${current}）` }).waitFor();
      const rows = await page.locator('main tbody tr').evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
      const mine = rows.find((r) => r[0].startsWith(MUNICIPALITY.code));
      assert(mine, `no board row for ${MUNICIPALITY.code}: ${JSON.stringify(rows)}`);
      // 作成済 梱包済 発送済 受領済 送付済 破損 再発行済
      assertEqual(JSON.stringify(mine.slice(1)), JSON.stringify(['0', '0', '0', '1', '1', '1', '0']),
        `board counts of ${MUNICIPALITY.name}`);
      await check('媒体の状況');
    });

  });
}
