// 一括登録 in the background in Chromium (issue 11): a municipal staff user uploads a big file
// (30,000 rows, posted from the page); the answer is a 303 to the batch's page, which is the
// progress page (a <progress> with its label, the counters, meta refresh) while the import runs
// and today's result page when it ends. Both states must have no axe-core violation (WCAG 2.1
// A/AA) and no horizontal scroll at 1280×800 and 375×740; console errors fail.

import {
  createUser, loginAndChangePassword, addMunicipality, institutionCode, assert, assertEqual,
  runFlow,
} from './lib.mjs';

export const description = '一括登録 in the background: progress page (meta refresh, <progress>) → result page';

const MUNICIPALITY = { code: '131016', name: '千代田区' };
const CSV_HEADER = '医療機関コード,医療機関名,医療機関郵便番号,医療機関所在地,医療機関電話番号,ユーザ種別,氏名,氏名カナ,難病/小慢,指定医番号,診療科,メールアドレス';
const ROWS = 30000;
const GIVEN = [['太郎', 'タロウ'], ['花子', 'ハナコ'], ['一郎', 'イチロウ'], ['美咲', 'ミサキ'],
  ['健太', 'ケンタ'], ['陽子', 'ヨウコ'], ['大輔', 'ダイスケ'], ['恵子', 'ケイコ'],
  ['翔太', 'ショウタ'], ['直美', 'ナオミ']];

/** ROWS valid rows, 10 users per institution (the first the 責任者). */
function bigCsv() {
  const lines = [CSV_HEADER];
  for (let i = 0; i < ROWS; i++) {
    const inst = 800000 + Math.floor(i / 10);
    const j = i % 10;
    const code = institutionCode(`131${String(inst).padStart(6, '0')}`);
    lines.push([code, `進捗試験病院${inst}`, '100-0001', `東京都千代田区千代田${inst}-1`, '03-1234-5678',
      j === 0 ? '責任者' : '指定医', `進捗 ${GIVEN[j][0]}`, `シンチョク ${GIVEN[j][1]}`,
      ['難病', '小慢', '両方'][i % 3], j === 0 ? '' : `P${inst}-${j}`, '内科', ''].join(','));
  }
  return '\ufeff' + lines.join('\r\n') + '\r\n';
}

export default async function importProgressTest(t) {
  await runFlow(t, 'nsdb-import-progress-', async ({ server, page, check }) => {
    let staff;
    await t.step('nsdb municipality add + muni_staff', async () => {
      await addMunicipality(server, MUNICIPALITY);
      staff = await createUser(server, {
        role: 'muni_staff', name: '千代田 一括係', extra: ['--municipality', MUNICIPALITY.code],
      });
    });

    let batchPath;
    await t.step('staff: 一括登録 of 30,000 rows → 303 to the batch\'s page at once', async () => {
      await loginAndChangePassword(page, server, staff);
      await page.goto(`${server.url}/inst-users/new?tab=bulk`);
      const answer = await page.evaluate(async (csv) => {
        const csrf = document.querySelector('input[name="csrf"]').value;
        const form = new FormData();
        form.append('csrf', csrf);
        form.append('file', new Blob([csv], { type: 'text/csv' }), '大量.csv');
        const r = await fetch('/inst-users/import', { method: 'POST', body: form, redirect: 'follow' });
        return { status: r.status, url: r.url };
      }, bigCsv());
      assertEqual(answer.status, 200, 'page after the upload');
      batchPath = new URL(answer.url).pathname;
      assert(/^\/inst-users\/import\/\d+$/.test(batchPath), `upload went to ${answer.url}`);
    });

    await t.step('the progress page: heading, <progress> with its label, meta refresh', async () => {
      await page.goto(`${server.url}${batchPath}`);
      assertEqual(await page.getByRole('heading', { level: 1 }).innerText(), '一括登録の進み具合',
        'heading of the batch\'s page while it runs');
      const refresh = await page.locator('meta[http-equiv="refresh"]').getAttribute('content');
      assertEqual(refresh, '2', 'meta refresh');
      // axe's meta-refresh rule (WCAG 2.2.1) stands for a page that updates itself with no way to
      // turn it off: this one has the link, and with it turned off the page is checked in full
      // (a check of the refreshing page itself would be cut short by the refresh)
      const stop = page.getByRole('link', { name: '自動更新を止める' });
      assertEqual(await stop.count(), 1, 'links to turn the automatic update off');
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), stop.click()]);
      assertEqual(await page.locator('meta[http-equiv="refresh"]').count(), 0, 'meta refresh when off');
      assertEqual(await page.getByRole('progressbar', { name: '進み具合' }).count(), 1,
        'progress bars named 進み具合');
      assert((await page.locator('main').innerText()).includes('確認済み'), 'counters on the page');
      await check('一括登録の進み具合（自動更新なし）');
    });

    await t.step('it ends on the result page', async () => {
      const deadline = Date.now() + 300e3;
      for (;;) {
        await page.goto(`${server.url}${batchPath}`);
        const heading = await page.getByRole('heading', { level: 1 }).innerText();
        if (heading === '一括登録の結果') break;
        assert(Date.now() < deadline, 'the import did not end within 300 s');
        await page.waitForTimeout(1000);
      }
      const text = await page.locator('main').innerText();
      assert(text.includes(`${ROWS} 人の医療機関ユーザを登録しました`), `result page:\n${text.slice(0, 500)}`);
      assertEqual(await page.locator('meta[http-equiv="refresh"]').count(), 0, 'meta refresh on the result');
    });
  }, { serverEnv: { NSDB_IMPORT_CHUNK_PAUSE_MS: '150' } }); // 30 chunks: ~5 s running, whatever the machine
}
