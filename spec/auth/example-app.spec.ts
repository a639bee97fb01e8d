/**
 * examples/app run as docs/auth.md says: the app as a real child process (`node
 * examples/app/app.mjs`), wsmesh in-process with the doc's flags, and the doc's curl
 * flow with real HTTP and real sockets, in both modes: log in at the app, open a
 * socket with its cookie or token, push, log out at the app (4401). Then the browser
 * flow in headless Chromium (skipped without chromium), which is what shows that the
 * app's host-only cookies reach wsmesh on another port of the same host name.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { requireBinariesOrSkip } from '../support/binaries.ts';
import { launchChromium } from '../support/browser.ts';
import { collectLines, hasExited, stopChild } from '../support/children.ts';
import { admin, push, TestSocket } from '../support/client.ts';
import { ADMIN_TOKEN, DEMO_DIRECTORY, startNode, type TestNode } from '../support/node.ts';
import { freePort } from '../support/process.ts';

const SECRET = 'an-example-secret-of-32-bytes-or-more';
type Mode = 'proxy' | 'jwt';

/** The flags docs/auth.md gives wsmesh for each mode (the secret as a flag: startNode passes no env). */
function wsmeshFlags(mode: Mode, appPort: number): string[] {
  return mode === 'proxy' ? ['--auth.proxy.url', `http://127.0.0.1:${appPort}/wsmesh/connect`] : ['--auth.jwt.secret', SECRET, '--auth.jwt.cookie', 'wsmesh_token'];
}

interface RunningApp {
  url: string;
  child: ChildProcess;
  output: string[];
}

/** `node examples/app/app.mjs --mode <mode> --port <port> --wsmesh <url>`, once it says it listens. */
async function startApp(mode: Mode, port: number, wsmeshUrl: string): Promise<RunningApp> {
  const child = spawn(process.execPath, ['examples/app/app.mjs', '--mode', mode, '--port', String(port), '--wsmesh', wsmeshUrl], {
    env: { PATH: process.env.PATH ?? '', WSMESH_ADMIN_TOKEN: ADMIN_TOKEN, WSMESH_JWT_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  collectLines(child.stderr!, (line) => output.push(line));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the app did not listen within 10 s:\n${output.join('\n')}`)), 10_000);
      collectLines(child.stdout!, (line) => {
        output.push(line);
        if (!line.startsWith('app: listening')) return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the app exited with ${code}:\n${output.join('\n')}`));
      });
    });
  } catch (error) {
    await stopChild(child, 'SIGKILL');
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, child, output };
}

/** POST /login at the app, as `curl -c jar` would: the JSON and the `Cookie` header its cookies make. */
async function appLogin(app: RunningApp, login: string, password: string): Promise<{ status: number; body: any; cookie: string }> {
  const res = await fetch(`${app.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password }) });
  const body = res.status === 200 ? await res.json() : await res.text();
  return { status: res.status, body, cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') };
}

async function appLogout(app: RunningApp, cookie: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${app.url}/logout`, { method: 'POST', headers: { cookie } });
  return { status: res.status, body: res.status === 200 ? await res.json() : await res.text() };
}

async function refusalOf(socket: TestSocket): Promise<{ status: number; body: any }> {
  try {
    await socket.opened();
  } catch (err) {
    return err as { status: number; body: any };
  } finally {
    socket.close();
  }
  throw new Error('the socket opened');
}

describe('examples/app: an application with its own login (docs/auth.md)', function () {
  this.timeout(30000);
  let node: TestNode | undefined;
  let app: RunningApp | undefined;
  const sockets: TestSocket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    if (app && !hasExited(app.child)) await stopChild(app.child);
    app = undefined;
    await node?.stop();
    node = undefined;
  });

  /** The app on a free port and wsmesh pointed at it (and it at wsmesh). */
  async function start(mode: Mode, extraFlags: (appPort: number) => string[] = () => []): Promise<{ node: TestNode; app: RunningApp; appPort: number }> {
    const appPort = await freePort();
    node = await startNode([...wsmeshFlags(mode, appPort), ...extraFlags(appPort)]);
    app = await startApp(mode, appPort, node.url);
    return { node, app, appPort };
  }

  function socket(url: string, cookie?: string): TestSocket {
    const s = new TestSocket(url, cookie ? { headers: { cookie } } : {});
    sockets.push(s);
    return s;
  }

  it("the premise: wsmesh's demo directory does not list erin (context 1, user 50)", () => {
    const directory = JSON.parse(readFileSync(DEMO_DIRECTORY, 'utf8')) as { users: Array<{ id: number; context: number }> };
    expect(directory.users.some((u) => u.context === 1 && u.id === 50)).to.equal(false);
    expect(directory.users.some((u) => u.context === 1 && u.id === 3)).to.equal(true);
  });

  describe('mode proxy', () => {
    it("opens a socket with the app's session cookie, delivers a push, and closes it with 4401 at the app's logout", async () => {
      const { node, app } = await start('proxy');
      const alice = await appLogin(app, 'alice', 'alice-pw');
      expect(alice.status).to.equal(200);
      expect(alice.body).to.include({ userId: 3, contextId: 1 });
      expect(alice.cookie).to.match(/^app_session=[\w-]+$/);
      const s = socket(`${node.wsUrl}/ws/app`, alice.cookie);
      await s.opened();
      expect((await push(node.url, { contextId: 1, userId: 3, message: 'hello alice' })).body.local).to.equal(1);
      expect(await s.nextFrames(1)).to.deep.equal(['hello alice']);

      const out = await appLogout(app, alice.cookie);
      expect(out).to.deep.equal({ status: 200, body: { loggedOut: true, wsmesh: { status: 200, sessionId: alice.body.sessionId, closed: 1 } } });
      expect(await s.closedWith()).to.equal(4401);
      // The old cookie: the app answers 401 now.
      const again = await refusalOf(socket(`${node.wsUrl}/ws/app`, alice.cookie));
      expect([again.status, again.body.error]).to.deep.equal([403, 'ERR_SESSION_UNKNOWN']);
    });

    it("opens a socket for a user wsmesh's directory does not list, and leaves other sessions open at a logout", async () => {
      const { node, app } = await start('proxy');
      const erin = await appLogin(app, 'erin', 'erin-pw');
      const bob = await appLogin(app, 'bob', 'bob-pw');
      const erinSocket = socket(`${node.wsUrl}/ws/app`, erin.cookie);
      const bobSocket = socket(`${node.wsUrl}/ws/app`, bob.cookie);
      await Promise.all([erinSocket.opened(), bobSocket.opened()]);
      await push(node.url, { contextId: 1, userId: 50, message: 'hello erin' });
      expect(await erinSocket.nextFrames(1)).to.deep.equal(['hello erin']);
      expect((await appLogout(app, bob.cookie)).body.wsmesh.closed).to.equal(1);
      expect(await bobSocket.closedWith()).to.equal(4401);
      await push(node.url, { contextId: 1, userId: 50, message: 'still here' });
      expect(await erinSocket.nextFrames(2)).to.deep.equal(['hello erin', 'still here']);
    });

    it('refuses an upgrade without the cookie (403 ERR_SESSION_UNKNOWN); the app refuses a wrong password (401)', async () => {
      const { node, app } = await start('proxy');
      const none = await refusalOf(socket(`${node.wsUrl}/ws/app`));
      expect([none.status, none.body.error]).to.deep.equal([403, 'ERR_SESSION_UNKNOWN']);
      expect((await appLogin(app, 'alice', 'wrong')).status).to.equal(401);
    });
  });

  describe('mode jwt', () => {
    it('opens sockets with ?token= and with the token cookie, delivers a push to both, and closes both with 4401 at the logout', async () => {
      const { node, app } = await start('jwt');
      const alice = await appLogin(app, 'alice', 'alice-pw');
      expect(alice.status).to.equal(200);
      expect(alice.body.token).to.be.a('string');
      expect(alice.cookie).to.include(`wsmesh_token=${alice.body.token}`);
      const byQuery = socket(`${node.wsUrl}/ws/app?token=${alice.body.token}`);
      const byCookie = socket(`${node.wsUrl}/ws/app`, alice.cookie);
      await Promise.all([byQuery.opened(), byCookie.opened()]);
      expect((await push(node.url, { contextId: 1, userId: 3, message: 'hello alice' })).body.local).to.equal(2);
      expect(await byQuery.nextFrames(1)).to.deep.equal(['hello alice']);
      expect(await byCookie.nextFrames(1)).to.deep.equal(['hello alice']);

      const out = await appLogout(app, alice.cookie);
      expect(out.body.wsmesh).to.deep.equal({ status: 200, sessionId: alice.body.sessionId, closed: 2 });
      expect(await byQuery.closedWith()).to.equal(4401);
      expect(await byCookie.closedWith()).to.equal(4401);
      // The hook ended the session: its token (whose sid names it) no longer opens a socket, though its exp is an hour away.
      const after = await refusalOf(socket(`${node.wsUrl}/ws/app?token=${alice.body.token}`));
      expect([after.status, after.body.error]).to.deep.equal([403, 'ERR_SESSION_UNKNOWN']);
    });

    it("opens a socket for a user wsmesh's directory does not list, and refuses a token signed with another secret", async () => {
      const { node, app } = await start('jwt');
      const erin = await appLogin(app, 'erin', 'erin-pw');
      const s = socket(`${node.wsUrl}/ws/app?token=${erin.body.token}`);
      await s.opened();
      await push(node.url, { contextId: 1, userId: 50, message: 'hello erin' });
      expect(await s.nextFrames(1)).to.deep.equal(['hello erin']);
      const [header, payload] = erin.body.token.split('.');
      const forged = await refusalOf(socket(`${node.wsUrl}/ws/app?token=${header}.${payload}.${'A'.repeat(43)}`));
      expect([forged.status, forged.body.error]).to.deep.equal([403, 'ERR_TOKEN_INVALID']);
    });
  });

  describe('in a browser (headless Chromium)', function () {
    this.timeout(60000);
    let browser: Browser | undefined;
    let page: Page | undefined;

    before(async function () {
      requireBinariesOrSkip(this, 'chromium');
      browser = await launchChromium();
    });
    afterEach(async () => {
      await page?.close();
      page = undefined;
    });
    after(async () => browser?.close());

    /** Loads the app's page from http://localhost:<appPort>/ and logs alice in. */
    async function logIn(appPort: number): Promise<Page> {
      page = await browser!.newPage();
      await page.goto(`http://localhost:${appPort}/`);
      await page.click('#login-button');
      await page.waitForSelector('#login-status:has-text("Logged in as user 3")');
      return page;
    }

    for (const mode of ['proxy', 'jwt'] as const) {
      it(`mode ${mode}: the page's socket carries the app's cookies to wsmesh's port, shows a push, and shows 4401 after the logout`, async () => {
        const { node, appPort } = await start(mode, (port) => ['--websockets.allowedOrigins', `http://localhost:${port}`]);
        const p = await logIn(appPort);
        await p.click('#connect-button');
        await p.waitForSelector('#socket-state[data-state="open"]');
        expect((await push(node.url, { contextId: 1, userId: 3, message: 'hello from the API' })).body.local).to.equal(1);
        await p.waitForSelector('#messages li:has-text("hello from the API")');
        await p.click('#logout-button');
        await p.waitForSelector('#socket-state[data-state="closed"]');
        expect(await p.textContent('#socket-state')).to.contain('4401');
      });
    }

    it("refuses the page's socket (ERR_ORIGIN_DENIED) when wsmesh does not list the app's origin", async () => {
      const { node, appPort } = await start('proxy');
      const p = await logIn(appPort);
      await p.click('#connect-button');
      await p.waitForSelector('#socket-state[data-state="closed"]');
      expect(await p.textContent('#socket-state')).to.contain('1006');
      const stats = (await admin(node.url, 'GET', '/api/admin/stats')).body;
      expect(stats.counters.handshakes.rejected).to.deep.equal({ ERR_ORIGIN_DENIED: 1 });
    });
  });
});
