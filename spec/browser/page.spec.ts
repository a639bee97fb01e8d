/**
 * The demo page in a real browser: log in as alice, connect, push from the API, the
 * message appears, with the socket's state shown. Saves a screenshot.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { requireBinariesOrSkip } from '../support/binaries.ts';
import { launchChromium, screenshotDir } from '../support/browser.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { admin, push } from '../support/client.ts';

describe('demo page (headless Chromium)', function () {
  this.timeout(60000);
  let browser: Browser;
  let node: TestNode;
  let page: Page;

  before(async function () {
    requireBinariesOrSkip(this, 'chromium');
    browser = await launchChromium();
  });
  beforeEach(async () => {
    node = await startNode();
    page = await browser.newPage();
  });
  afterEach(async () => {
    await page?.close();
    await node?.stop();
  });
  after(async () => browser?.close());

  async function logInAndConnect(): Promise<void> {
    await page.goto(node.url + '/');
    await page.fill('#login', 'alice@demo');
    await page.fill('#password', 'wonderland');
    await page.click('#login-button');
    await page.waitForSelector('#login-status:has-text("Logged in as user 3")');
    await page.click('#connect-button');
    await page.waitForSelector('#socket-state[data-state="open"]');
  }

  it('logs in, connects, and shows a pushed message live; the screenshot is saved', async () => {
    await logInAndConnect();
    const rows = (await admin(node.url, 'GET', '/api/admin/sockets?contextId=1&userId=3')).body;
    expect(rows).to.have.length(1);
    expect(rows[0].path).to.equal('/ws/demo');
    const sent = await push(node.url, { contextId: 1, userId: 3, message: 'hello from the API' });
    expect(sent.body.local).to.equal(1);
    await page.waitForSelector('#messages li:has-text("hello from the API")');
    const file = join(screenshotDir(), 'demo-page.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(`      screenshot: ${file}`);
  });

  it('shows the close code when the session ends (4401 on logout)', async () => {
    await logInAndConnect();
    await page.click('#logout-button');
    await page.waitForSelector('#socket-state[data-state="closed"]');
    expect(await page.textContent('#socket-state')).to.contain('4401');
  });

  it('shows the refusal of a wrong password', async () => {
    await page.goto(node.url + '/');
    await page.fill('#password', 'wrong');
    await page.click('#login-button');
    await page.waitForSelector('#login-status.error');
    expect(await page.textContent('#login-status')).to.contain('ERR_LOGIN_FAILED');
  });
});
