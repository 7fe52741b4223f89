// Two-factor authentication (issue 14): the enrolment page a required role is sent to after its
// password change (QR code, URI, a wrong code refused) and the login's second step, with no
// axe-core violations and no horizontal scroll at 1280×800 or 375×740; then the menu.

import {
  startServer, createUser, newContext, checkPage, submitLogin, enrolTotp, totpNextCode,
  stopServerCleanly, assert, assertEqual, GOOD_PASSWORD,
} from './lib.mjs';

export const description = 'two-factor enrolment and the login code';

export default async function totpTest(t) {
  const server = await startServer();
  t.server = server;
  const context = await newContext(t.browser);
  const page = await context.newPage();
  t.page = page;
  const path = () => new URL(page.url()).pathname;
  try {
    const user = await createUser(server, { role: 'operator', name: '二要素 太郎' });

    await t.step('first login and password change → sent to /account/totp', async () => {
      await page.goto(`${server.url}/login`);
      await submitLogin(page, user.user_id, user.initial_password);
      await page.getByLabel('現在のパスワード').fill(user.initial_password);
      await page.getByLabel('新しいパスワード', { exact: true }).fill(GOOD_PASSWORD);
      await page.getByLabel('新しいパスワード（確認）').fill(GOOD_PASSWORD);
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.getByRole('button', { name: '変更する' }).click(),
      ]);
      assertEqual(path(), '/account/totp', 'page after the password change');
      await page.getByRole('img', { name: '二次元コード' }).waitFor();
      const uri = await page.locator('.totp-uri').innerText();
      assert(uri.startsWith(`otpauth://totp/nsdb:${user.user_id}?secret=`), `URI shown: ${uri}`);
      await checkPage(page, 'two-factor enrolment page');
    });

    await t.step('menu links lead back to the enrolment page until it is done', async () => {
      await page.goto(`${server.url}/cycles`);
      assertEqual(path(), '/account/totp', 'page of /cycles before enrolment');
    });

    await t.step('wrong code → error summary', async () => {
      await page.getByLabel('確認コード').fill('000000');
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.getByRole('button', { name: '設定する' }).click(),
      ]);
      await page.locator('.error-summary').waitFor({ state: 'visible' });
      await checkPage(page, 'two-factor enrolment page, wrong code');
    });

    await t.step('right code → recovery codes → menu', async () => {
      await enrolTotp(page);
      assertEqual(path(), '/', 'page after enrolment');
      await page.getByRole('heading', { level: 1, name: 'メニュー' }).waitFor();
    });

    await t.step('log out, log in → /login/totp → code → menu', async () => {
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.getByRole('button', { name: 'ログアウト' }).click(),
      ]);
      await page.goto(`${server.url}/login`);
      await page.getByLabel('ユーザID').fill(user.user_id);
      await page.getByLabel('パスワード', { exact: true }).fill(GOOD_PASSWORD);
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.getByRole('button', { name: 'ログイン' }).click(),
      ]);
      assertEqual(path(), '/login/totp', 'page after the password');
      await checkPage(page, 'login code page');
      await page.getByLabel('確認コード').fill('000000');
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.getByRole('button', { name: '確認する' }).click(),
      ]);
      await page.locator('.error-summary').waitFor({ state: 'visible' });
      await checkPage(page, 'login code page, wrong code');
      await page.getByLabel('確認コード').fill(await totpNextCode(user.user_id));
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.getByRole('button', { name: '確認する' }).click(),
      ]);
      assertEqual(path(), '/', 'page after the code');
      await page.getByRole('heading', { level: 1, name: 'メニュー' }).waitFor();
    });

    assert(context.consoleErrors.length === 0,
      `browser console errors (CSP violations?):\n  ${context.consoleErrors.join('\n  ')}`);
  } catch (e) {
    await context.close();
    await server.stop();
    throw e;
  }
  await context.close();
  await t.step('server exits cleanly on SIGTERM', () => stopServerCleanly(server));
}
