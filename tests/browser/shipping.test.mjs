// The operator's shipping desk in Chromium (issue 13, item 2): 作成 → 梱包 → 発送 → 受領 on the
// screens. Municipal staff register two institutions (一括登録 CSV); the operator, on the board of
// the cycle (/operator/media, server started with --media-template), builds the media through the
// confirmation (the build runs in the background; the page is refreshed until it has ended),
// packs them (梱包済, no tracking number), types a Letter Pack number with a wrong check digit
// (refused at the package's field, error summary linking to it), then the right number as printed
// on the envelope in full-width digits with hyphens (発送済, the number linked to Japan Post's
// tracking page). Staff then see the number with Japan Post's link on 媒体受領 and record 受領.
// Every page state must have no axe-core violation (WCAG 2.1 A/AA) and no horizontal scroll.

import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, dirname } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

import {
  createUser, loginAndChangePassword, pathOf, addMunicipality, institutionCode, assert, assertEqual,
  runFlow, submitLogin, GOOD_PASSWORD,
} from './lib.mjs';

export const description = '作成 → 梱包 → 発送 (tracking number) on the operator board → 受領 by municipal staff';

const MUNICIPALITY = { code: '011002', name: '札幌市', postal: '060-8611', address: '北海道札幌市中央区北1条西2丁目' };
const CSV_HEADER = '医療機関コード,医療機関名,医療機関郵便番号,医療機関所在地,医療機関電話番号,ユーザ種別,氏名,氏名カナ,難病/小慢,指定医番号,診療科,メールアドレス';
const ROWS = [
  [institutionCode('011000201'), '大通発送病院', '060-0042', '北海道札幌市中央区大通西1-1', '011-231-0201',
    '指定医', '山本 一郎', 'ヤマモト イチロウ', '難病', 'D-600001', '内科', ''],
  [institutionCode('011000202'), '円山発送クリニック', '064-0820', '北海道札幌市中央区大通西27-1', '011-231-0202',
    '指定医', '中村 二子', 'ナカムラ フタコ', '両方', 'D-600002', '小児科', ''],
];
const NUMBER = '2345-6789-0126'; // 23456789012 mod 7 = 6
const TYPED = '２３４５－６７８９－０１２６'; // as an IME types it
const WRONG = '2345-6789-0125';
const JAPAN_POST = 'https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1=234567890126&locale=ja';

const csvText = (rows) => [CSV_HEADER, ...rows.map((r) => r.join(','))].join('\r\n') + '\r\n';

async function clickAndWait(page, locator) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
}

async function makeTemplate(dir) {
  const files = {
    'マニュアル/操作マニュアル.pdf': randomBytes(16 * 1024),
    'はじめにお読みください.txt': Buffer.from('難病・小慢DB 医療機関用媒体\r\n'),
  };
  for (const [rel, data] of Object.entries(files)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), data);
  }
  return dir;
}

/** The board's row of the municipality's package (梱包と発送先). */
function packageRow(page) {
  // the first table after the heading: the downloads further down name the package too
  return page.locator('#packages ~ .table-wrap').first().locator('tbody tr').filter({ hasText: `${MUNICIPALITY.code} ${MUNICIPALITY.name} 梱包 1` });
}

export default async function shippingTest(t) {
  const templateRoot = await mkdtemp(join(tmpdir(), 'nsdb-ship-template-'));
  const template = await makeTemplate(join(templateRoot, 'template'));
  try {
    await runFlow(t, 'nsdb-shipping-', async ({ server, page, check }) => {
      let staff, operator;
      await t.step('nsdb municipality add + muni_staff + operator', async () => {
        await addMunicipality(server, {
          code: MUNICIPALITY.code, name: MUNICIPALITY.name,
          extra: ['--postal', MUNICIPALITY.postal, '--address', MUNICIPALITY.address],
        });
        staff = await createUser(server, { role: 'muni_staff', name: '札幌 発送係', extra: ['--municipality', MUNICIPALITY.code] });
        operator = await createUser(server, { role: 'operator', name: '運用 発送' });
      });

      await t.step('staff: 一括登録 of two institutions, then logout', async () => {
        await loginAndChangePassword(page, server, staff);
        await page.goto(`${server.url}/inst-users/new?tab=bulk`);
        const status = await page.evaluate(async (csv) => {
          const form = new FormData();
          form.append('csrf', document.querySelector('input[name="csrf"]').value);
          form.append('file', new Blob(['\ufeff' + csv], { type: 'text/csv' }), '指定医一括登録.csv');
          const r = await fetch('/inst-users/import', { method: 'POST', body: form, redirect: 'manual' });
          return r.type === 'opaqueredirect' ? 303 : r.status;
        }, csvText(ROWS));
        assertEqual(status, 303, 'answer to the 一括登録 upload');
        await clickAndWait(page, page.getByRole('button', { name: 'ログアウト' }));
      });

      await t.step('operator: 作成 from the board, through its confirmation; the build ends', async () => {
        await loginAndChangePassword(page, server, operator);
        await page.goto(`${server.url}/operator/media`);
        await page.getByRole('heading', { level: 1, name: /^媒体の状況/ }).waitFor();
        await check('board (nothing built)');
        await clickAndWait(page, page.getByRole('button', { name: 'このサイクルの媒体を作成' }));
        await page.getByRole('heading', { level: 1, name: '媒体の作成の確認' }).waitFor();
        // today is inside the cycle's registration window: the page says so and asks for a tick
        await page.getByRole('checkbox', { name: '登録期間中に作成することを確認しました' }).check();
        await check('confirmation (作成 during the registration window)');
        await clickAndWait(page, page.getByRole('button', { name: '登録期間中ですが媒体を作成する' }));
        for (let i = 0; i < 60; i++) {
          const text = await page.locator('main').innerText();
          if (text.includes('媒体を作成しました')) break;
          assert(!text.includes('作成に失敗'), `build failed:\n${text}`);
          await page.waitForTimeout(500);
          await page.reload({ waitUntil: 'load' });
        }
        const notice = await page.locator('.notice').first().innerText();
        assert(notice.includes('媒体を作成しました：2 件'), `notice after the build: ${notice}`);
        await check('board (built)');
      });

      await t.step('梱包 through its confirmation → 梱包済, no tracking number, a 発送 form', async () => {
        await clickAndWait(page, page.getByRole('button', { name: '自治体ごとに梱包' }));
        await page.getByRole('heading', { level: 1, name: '梱包の確認' }).waitFor();
        await check('confirmation (梱包)');
        await clickAndWait(page, page.getByRole('button', { name: '梱包する' }));
        const notice = await page.locator('.notice').first().innerText();
        assert(notice.includes('梱包を作成しました：1 件'), `notice after packing: ${notice}`);
        const row = packageRow(page);
        assertEqual(await row.count(), 1, 'rows of the package');
        const cells = await row.locator('td').allInnerTexts();
        assert(cells[4].includes('未入力') && cells[5].includes('梱包済'), `package row: ${JSON.stringify(cells)}`);
        await row.getByLabel(/追跡番号/).waitFor();
        await check('board (packed)');
      });

      await t.step('発送 with a wrong check digit → refused at the field, the number kept', async () => {
        const row = packageRow(page);
        await row.getByLabel(/追跡番号/).fill(WRONG);
        await clickAndWait(page, row.getByRole('button', { name: /^発送を記録/ }));
        const summary = await page.locator('.error-summary').innerText();
        assert(summary.includes('検査数字'), `error summary: ${summary}`);
        const field = packageRow(page).getByLabel(/追跡番号/);
        assertEqual(await field.getAttribute('aria-invalid'), 'true', 'the field is marked');
        assertEqual(await field.inputValue(), WRONG, 'what was typed');
        const error = await packageRow(page).locator('.field__error').innerText();
        assert(error.includes('最後の1桁（検査数字）が合いません'), `error at the field: ${error}`);
        await check('board (発送 refused)');
      });

      await t.step('発送 with the number as printed, typed in full-width → 発送済, linked to Japan Post', async () => {
        const row = packageRow(page);
        await row.getByLabel(/追跡番号/).fill(TYPED);
        await clickAndWait(page, row.getByRole('button', { name: /^発送を記録/ }));
        assert(/^\/operator\/media\?cycle=[\d-]+&done=shipped&package=\d+$/.test(pathOf(page)), `page after 発送: ${pathOf(page)}`);
        const notice = await page.locator('.notice').first().innerText();
        assert(notice.includes(`発送を記録しました（追跡番号 ${NUMBER}）`), `notice: ${notice}`);
        const link = packageRow(page).getByRole('link', { name: new RegExp(NUMBER) });
        assertEqual(await link.getAttribute('href'), JAPAN_POST, 'the tracking link');
        assertEqual(await packageRow(page).getByRole('button', { name: /^発送を記録/ }).count(), 0, 'the 発送 form after 発送');
        await check('board (shipped)');
        await clickAndWait(page, page.getByRole('button', { name: 'ログアウト' }));
      });

      await t.step('staff: 媒体受領 shows the number and Japan Post\'s link; 受領 through the confirmation', async () => {
        await page.goto(`${server.url}/login`);
        await submitLogin(page, staff.user_id, GOOD_PASSWORD);
        await page.goto(`${server.url}/media`);
        const heading = await page.getByRole('heading', { level: 2 }).innerText();
        assert(heading.includes(`追跡番号 ${NUMBER}`) && heading.includes('発送済'), `package heading: ${heading}`);
        const link = page.getByRole('link', { name: /日本郵便の追跡ページ/ });
        assertEqual(await link.getAttribute('href'), JAPAN_POST, 'Japan Post link on 媒体受領');
        await check('媒体受領 (shipped)');
        await clickAndWait(page, page.getByRole('button', { name: '受領を記録する' }));
        await page.getByRole('heading', { level: 1, name: '梱包の受領の確認' }).waitFor();
        assert((await page.locator('main').innerText()).includes(NUMBER), 'the number on the confirmation');
        await clickAndWait(page, page.getByRole('button', { name: '受領を記録する' }));
        assertEqual(pathOf(page), '/media?done=received', 'page after 受領');
        const after = await page.getByRole('heading', { level: 2 }).innerText();
        assert(after.includes('受領済'), `package heading after 受領: ${after}`);
        await check('媒体受領 (received)');
      });
    }, { serverArgs: ['--media-template', template] });
  } finally {
    await rm(templateRoot, { recursive: true, force: true });
  }
}
