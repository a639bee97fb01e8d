/**
 * The live inspector of a 2-node cluster (embedded broker) in a real browser: the
 * node selector lists both nodes; choosing b shows b's connection actors (asked over
 * the broker); an actor's details list its transitions with times and event types;
 * `all` shows the actors of both nodes. Neither the page nor any answer it read holds
 * a pushed message, the session id or the secret cookie. Saves screenshots (their
 * paths are printed).
 */
import { expect } from 'chai';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { requireBinariesOrSkip } from '../support/binaries.ts';
import { launchChromium, screenshotDir } from '../support/browser.ts';
import { ADMIN_TOKEN } from '../support/node.ts';
import { login, openSocket, push, type Login, type TestSocket } from '../support/client.ts';
import { startPair, type TestPair } from '../cluster/support.ts';

const MARKER = 'payload-marker-41d2e8';

describe('inspector page over a 2-node cluster (headless Chromium)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let pair: TestPair;
  let page: Page;
  const errors: string[] = [];
  /** The text of every inspector API answer the page read (the event stream aside: it never ends). */
  const answers: string[] = [];
  const sockets: TestSocket[] = [];
  let screens: string;

  before(async function () {
    requireBinariesOrSkip(this, 'chromium');
    browser = await launchChromium();
    screens = screenshotDir();
  });
  beforeEach(async () => {
    // A short wait for other nodes' answers: the test of a silent node waits it out.
    pair = await startPair(['--cluster.syncTimeout', '800']);
    page = await browser.newPage({ viewport: { width: 1700, height: 1000 } });
    errors.length = 0;
    answers.length = 0;
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    page.on('response', async (response) => {
      const url = new URL(response.url());
      if (!url.pathname.startsWith('/api/admin/inspector/') || url.pathname.endsWith('/events')) return;
      answers.push(await response.text().catch(() => ''));
    });
  });
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.close());
    await page?.close();
    await pair?.stop();
  });
  after(async () => browser?.close());

  const count = (machine: string, path: string) => page.locator(`[data-count-for="${machine}/${path}"]`);
  const waitCount = (key: string, value: string) =>
    page.waitForFunction(([k, v]) => document.querySelector(`[data-count-for="${k}"]`)?.textContent === v, [key, value] as const);

  async function openInspector(): Promise<void> {
    await page.goto(pair.nodes.a.url + '/admin/inspector');
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#token-button');
    await page.waitForSelector('#status[data-state="live"]');
  }

  async function aliceOn(node: 'a' | 'b'): Promise<{ alice: Login; socket: TestSocket }> {
    const alice = await login(pair.nodes[node].url);
    const socket = await openSocket(pair.nodes[node].wsUrl, alice);
    sockets.push(socket);
    return { alice, socket };
  }

  async function screenshot(name: string): Promise<void> {
    const file = join(screens, name);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`      screenshot: ${file}`);
  }

  /** Neither the page nor an answer it read holds the message, the session id or the secret cookie. */
  async function expectNoSecrets(alice: Login): Promise<void> {
    const texts = [await page.content(), ...answers];
    const secrets = [MARKER, alice.session, ...alice.cookie.split('; ').map((c) => c.split('=')[1])];
    for (const secret of secrets) for (const text of texts) expect(text.includes(secret), `"${secret}" in ${text.slice(0, 80)}`).to.equal(false);
  }

  it("lists both nodes; choosing b shows b's connection actor, and its transitions with times and event types, never a payload or a secret", async () => {
    await openInspector();
    const options = await page.locator('#node-select option').evaluateAll((els) => els.map((o) => (o as HTMLOptionElement).value));
    expect(options).to.deep.equal(['a', 'b', 'all']);
    expect(await page.locator('#node-select').inputValue()).to.equal('a');

    await page.selectOption('#node-select', 'b');
    await page.waitForSelector('#status:has-text("Node b: sampled every 2 s")');
    expect(await count('node', 'running').textContent()).to.equal('1');
    await expect(await count('connection', 'open').textContent()).to.equal('0');

    // Opened after b was chosen: b follows connection actors already, so it records this one from its start.
    const { alice, socket } = await aliceOn('b');
    expect((await push(pair.nodes.a.url, { contextId: 1, userId: 3, message: `hello ${MARKER}` })).status).to.equal(202);
    await socket.nextFrames(1);
    await waitCount('connection/open', '1');
    const button = page.locator('[data-group="connection/open.idle"] button.actor[data-node="b"]');
    await button.waitFor();
    expect(await button.textContent()).to.match(/^b x:\d+ user 1\/3 \/ws\/demo$/);
    await button.click();
    await page.waitForSelector('#transitions tbody tr');
    const rows = await page.locator('#transitions tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.map((r) => r.slice(1))).to.deep.equal([
      ['ws.opened', 'authenticated', 'open.idle'],
      ['handshake.accepted', 'upgrade', 'authenticated'],
      ['xstate.init', '(start)', 'upgrade'],
    ]);
    for (const [time] of rows) expect(time).to.match(/^\d\d:\d\d:\d\d\.\d{3}$/);
    expect(await page.textContent('#details dl')).to.contain('node').and.contain('b');
    const context = JSON.parse((await page.textContent('#context'))!);
    expect(context).to.include({ path: '/ws/demo', sent: 1 });
    await screenshot('inspector-node-b.png');
    await expectNoSecrets(alice);
    expect(errors).to.deep.equal([]);
  });

  it('shows the actors of both nodes with all, each named with its node; back on a, the live stream again', async () => {
    const { alice } = await aliceOn('a');
    await aliceOn('b');
    await openInspector();
    await page.selectOption('#node-select', 'all');
    await page.waitForSelector('#status:has-text("All nodes (a, b): sampled every 2 s")');
    await waitCount('connection/open', '2');
    expect(await count('node', 'running').textContent()).to.equal('2');
    const nodes = await page.locator('[data-group="connection/open.idle"] button.actor').evaluateAll((els) => els.map((b) => (b as HTMLElement).dataset.node).sort());
    expect(nodes).to.deep.equal(['a', 'b']);
    await page.click('[data-group="connection/open.idle"] button.actor[data-node="a"]');
    await page.waitForSelector('#context');
    await screenshot('inspector-all-nodes.png');

    await page.selectOption('#node-select', 'a');
    await page.waitForSelector('#status:has-text("Node a, live since")');
    await waitCount('connection/open', '1');
    expect(await count('node', 'running').textContent()).to.equal('1');
    await expectNoSecrets(alice);
    expect(errors).to.deep.equal([]);
  });

  it('names a node that does not answer in the status line, and shows the nodes that did', async () => {
    // b is live but its answer never comes (as a frozen node's).
    pair.nodes.b.node.queries.register('inspector.actors', () => new Promise(() => {}));
    await openInspector();
    await page.selectOption('#node-select', 'all');
    await page.waitForSelector('#status[data-state="partial"]:has-text("no answer from b")');
    expect(await page.textContent('#status')).to.contain('All nodes (a)');
    expect(await count('node', 'running').textContent()).to.equal('1');
    await page.selectOption('#node-select', 'b');
    await page.waitForSelector('#status[data-state="error"]:has-text("ERR_NODE_UNAVAILABLE")');
    expect(await page.textContent('#status')).to.contain('Node b did not answer within cluster.syncTimeout');
    // What all showed (a's actors) is not left on screen under b.
    expect(await count('node', 'running').textContent()).to.equal('0');
    expect(await page.locator('button.actor').count()).to.equal(0);
    await screenshot('inspector-silent-node.png');
    // The 504s are the page's console errors of the failed fetches; no script error.
    expect(errors.filter((e) => !e.includes('504'))).to.deep.equal([]);
  });
});
