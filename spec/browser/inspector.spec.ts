/**
 * The live inspector in a real browser: enter the admin token, see alice's
 * connection actor counted in `open` while her socket is open and leave when it
 * closes. Saves a screenshot (its path is printed).
 */
import { expect } from 'chai';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { requireBinariesOrSkip } from '../support/binaries.ts';
import { launchChromium, screenshotDir } from '../support/browser.ts';
import { ADMIN_TOKEN, startNode, type TestNode } from '../support/node.ts';
import { login, openSocket } from '../support/client.ts';

describe('inspector page (headless Chromium)', function () {
  this.timeout(60000);
  let browser: Browser;
  let node: TestNode;
  let page: Page;
  const errors: string[] = [];

  before(async function () {
    requireBinariesOrSkip(this, 'chromium');
    browser = await launchChromium();
  });
  beforeEach(async () => {
    node = await startNode();
    page = await browser.newPage({ viewport: { width: 1700, height: 1000 } });
    errors.length = 0;
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  });
  afterEach(async () => {
    await page?.close();
    await node?.stop();
  });
  after(async () => browser?.close());

  const count = (machine: string, path: string) => page.locator(`[data-count-for="${machine}/${path}"]`);

  async function openInspector(token = ADMIN_TOKEN): Promise<void> {
    await page.goto(node.url + '/admin/inspector');
    await page.fill('#token', token);
    await page.click('#token-button');
  }

  it('counts alice\'s connection actor in open while her socket is open, and not after it closed', async () => {
    await openInspector();
    await page.waitForSelector('#status[data-state="live"]');
    await expect(await count('connection', 'open').textContent()).to.equal('0');
    expect(await count('node', 'running').textContent()).to.equal('1');

    const alice = await login(node.url);
    const socket = await openSocket(node.wsUrl, alice);
    await page.waitForFunction(() => document.querySelector('[data-count-for="connection/open"]')?.textContent === '1');
    expect(await count('connection', 'open.idle').textContent()).to.equal('1');
    await page.waitForSelector('[data-group="connection/open.idle"] button.actor:has-text("user 1/3 /ws/demo")');
    await page.click('[data-group="connection/open.idle"] button.actor');
    await page.waitForSelector('#context');
    const context = JSON.parse((await page.textContent('#context'))!);
    expect(context).to.include({ path: '/ws/demo', remoteAddress: '127.0.0.1' });
    expect(context).to.not.have.property('socket');
    const file = join(screenshotDir(), 'inspector.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(`      screenshot: ${file}`);

    socket.ws.close(1000, 'bye');
    await socket.closedWith();
    await page.waitForFunction(() => document.querySelector('[data-count-for="connection/open"]')?.textContent === '0');
    expect(await page.locator('[data-group^="connection/"]').count()).to.equal(0);
    expect(errors).to.deep.equal([]);
  });

  it('keeps the token out of the page and asks again when it is refused', async () => {
    await openInspector('wrong-token');
    await page.waitForSelector('#status[data-state="error"]');
    expect(await page.textContent('#status')).to.contain('ERR_ADMIN_AUTH');
    expect(await page.evaluate(() => sessionStorage.length)).to.equal(0);
    expect(await page.locator('[data-count-for]').count()).to.equal(0);
  });
});
