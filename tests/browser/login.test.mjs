// Login, the forced password change at first login, and the menu (issue 2, item 11):
// each page, and each error state, must have no axe-core violations (WCAG 2.1 A/AA) and no
// horizontal scroll at 1280×800 or at 375×740.

import {
  startServer, createUser, newContext, checkPage, submitLogin, submitPasswordChange, pathOf,
  stopServerCleanly, assert, assertEqual, GOOD_PASSWORD,
} from './lib.mjs';

export const description = 'login → forced password change → menu';

export default async function loginTest(t) {
  const server = await startServer();
  t.server = server;
  const context = await newContext(t.browser);
  const page = await context.newPage();
  t.page = page;
  try {
    const user = await createUser(server, { role: 'mhlw', name: 'テスト 太郎' });

    await t.step('GET /login', async () => {
      const resp = await page.goto(`${server.url}/login`);
      assertEqual(resp.status(), 200, 'GET /login status');
      const csp = resp.headers()['content-security-policy'] || '';
      assert(/frame-ancestors 'none'/.test(csp), `CSP lacks frame-ancestors 'none': ${csp}`);
      assert(!/unsafe-inline/.test(csp.match(/script-src[^;]*/)?.[0] || ''), `CSP allows inline script: ${csp}`);
      await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
      await checkPage(page, 'login page');
    });

    await t.step('wrong password → same form with an error summary', async () => {
      await submitLogin(page, user.user_id, 'WRONGPASSWRD');
      assertEqual(new URL(page.url()).pathname, '/login', 'page after a failed login');
      const summary = page.locator('.error-summary');
      await summary.waitFor({ state: 'visible' });
      assert(await page.getByLabel('ユーザID').inputValue() === user.user_id,
        'the user ID typed is not kept after a failed login');
      await checkPage(page, 'login page, failed login');
    });

    await t.step('first login with the initial password → /account/password', async () => {
      // Lower case: user IDs are case-insensitive at login (SPEC §3).
      await submitLogin(page, user.user_id.toLowerCase(), user.initial_password);
      assertEqual(new URL(page.url()).pathname, '/account/password', 'page after first login');
      await page.getByRole('heading', { level: 1, name: '自アカウント管理' }).waitFor();
      await checkPage(page, 'password change page');
    });

    await t.step('other pages redirect to the password change until it is done', async () => {
      await page.goto(`${server.url}/`);
      assertEqual(new URL(page.url()).pathname, '/account/password', 'GET / before the password change');
    });

    await t.step('refused password (password1234) → error summary and field error', async () => {
      await submitPasswordChange(page, user.initial_password, 'password1234');
      assertEqual(new URL(page.url()).pathname, '/account/password', 'page after a refused password');
      const summary = page.locator('.error-summary');
      await summary.waitFor({ state: 'visible' });
      const summaryText = (await summary.innerText()).trim();
      assert(summaryText.includes('入力内容にエラーがあります'), `error summary text: ${summaryText}`);
      const link = summary.locator('a[href="#new_password"]');
      assert(await link.count() === 1, `error summary has no link to #new_password:\n${await summary.innerHTML()}`);
      const fieldError = page.locator('#new_password-error');
      await fieldError.waitFor({ state: 'visible' });
      const errText = (await fieldError.innerText()).trim();
      assert(errText.length > 0, 'field error for new_password is empty');
      const input = page.getByLabel('新しいパスワード', { exact: true });
      assertEqual(await input.getAttribute('aria-invalid'), 'true', 'aria-invalid on new_password');
      const describedBy = (await input.getAttribute('aria-describedby')) || '';
      assert(describedBy.split(/\s+/).includes('new_password-error'),
        `new_password's aria-describedby (${describedBy}) does not reference new_password-error`);
      // The summary's link moves focus to the field (works without JavaScript).
      await link.click();
      assert(await input.evaluate((el) => el === document.activeElement),
        'following the error summary link does not focus the new_password field');
      t.log(`    refused with: ${errText}`);
      await checkPage(page, 'password change page, refused password');
    });

    await t.step('good password → menu', async () => {
      await submitPasswordChange(page, user.initial_password, GOOD_PASSWORD);
      assertEqual(new URL(page.url()).pathname, '/', `page after the password change (${pathOf(page)})`);
      await page.getByRole('heading', { level: 1, name: 'メニュー' }).waitFor();
      await checkPage(page, 'menu page');
    });

    await t.step('log out and log in again with the new password → menu directly', async () => {
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.getByRole('button', { name: 'ログアウト' }).click(),
      ]);
      await page.goto(`${server.url}/login`);
      await submitLogin(page, user.user_id, GOOD_PASSWORD);
      assertEqual(new URL(page.url()).pathname, '/', 'page after a second login');
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
