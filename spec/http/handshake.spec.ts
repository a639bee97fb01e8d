import { readFileSync } from 'node:fs';
import net from 'node:net';
import { expect } from 'chai';
import { Directory } from '../../src/directory/directory.ts';
import { login, type Login } from '../support/client.ts';
import { DEMO_DIRECTORY, startNode, type TestNode } from '../support/node.ts';
import {
  ADMIN,
  as,
  editDirectory,
  expectHealthy,
  expectRefusal,
  listSockets,
  OTHER_LOOPBACK,
  rawExchange,
  request,
  SocketPool,
  untilLocalSockets,
  type Refusal,
} from './support/http.ts';

const DEMO_TEXT = readFileSync(DEMO_DIRECTORY, 'utf8');
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** The demo directory with one user or context changed. */
function demoWith(edit: (data: any) => void): Directory {
  return Directory.parse(editDirectory(DEMO_TEXT, edit), 'edited-directory.json');
}

function user(data: any, login: string): any {
  return data.users.find((u: any) => u.login === login);
}

/** A handshake request written by hand: what `ws` would never send. */
function rawUpgrade(node: TestNode, target: string, headers: Record<string, string>): ReturnType<typeof rawExchange> {
  const host = new URL(node.url).host;
  const lines = [`GET ${target} HTTP/1.1`, `Host: ${host}`, 'Connection: Upgrade', 'Upgrade: websocket', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return rawExchange(node.url, lines.join('\r\n') + '\r\n\r\n');
}

describe('http handshake', () => {
  let node: TestNode;
  let alice: Login;
  let bob: Login;
  let carol: Login;
  const sockets = new SocketPool(() => node.wsUrl);

  /** Refused with this status and code, answered over HTTP, and the node still serves. */
  async function expectRefused(refusal: Promise<Refusal>, status: number, code: string): Promise<Refusal> {
    const answer = await refusal;
    expectRefusal(answer, status, code);
    await expectHealthy(node);
    return answer;
  }

  before(async () => {
    node = await startNode();
    [alice, bob, carol] = await Promise.all([login(node.url), login(node.url, 'bob@demo', 'builder'), login(node.url, 'carol@acme', 'carol-pass')]);
  });

  afterEach(async () => {
    sockets.terminateAll();
    node.node.applyDirectory(Directory.parse(DEMO_TEXT, 'demo'));
    await untilLocalSockets(node, 0);
  });

  after(async () => {
    await node?.stop();
  });

  describe('#upgrade', () => {
    it('opens a socket and indexes it under the user with its path when every check passes', async () => {
      const socket = await sockets.open(as(alice, { path: '/ws/demo/inbox', query: { connection: 'tab-1' } }));
      expect(socket.ws.readyState).to.equal(socket.ws.OPEN);
      const rows = await listSockets(node, '?contextId=1&userId=3');
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ contextId: 1, userId: 3, path: '/ws/demo/inbox', connectionId: 'tab-1' });
    });

    it('gives the socket a random UUID when no connection id is asked for', async () => {
      await sockets.open(as(alice));
      const [row] = await listSockets(node, '?contextId=1&userId=3');
      expect(row.connectionId).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    });

    it('serves the prefix itself and drops one trailing slash from the path', async () => {
      await sockets.open(as(alice, { path: '/ws', query: { connection: 'bare' } }));
      await sockets.open(as(alice, { path: '/ws/a/', query: { connection: 'slash' } }));
      const rows = await listSockets(node, '?contextId=1&userId=3');
      const paths = Object.fromEntries(rows.map((row: any) => [row.connectionId, row.path]));
      expect(paths).to.deep.equal({ bare: '/ws', slash: '/ws/a' });
    });
  });

  describe('#servedPath', () => {
    for (const path of ['/nope', '/wsx', '/ws//a', '/ws/a$b', '/ws/a/b//', '/socket.iox/a']) {
      it(`answers 404 ERR_PATH_UNKNOWN for ${path}`, async () => {
        await expectRefused(sockets.refused(as(alice, { path })), 404, 'ERR_PATH_UNKNOWN');
      });
    }
  });

  describe('#webSocketHeaders', () => {
    it('answers 400 ERR_BAD_REQUEST over raw HTTP when Sec-WebSocket-Key is missing', async () => {
      const answer = await rawUpgrade(node, `/ws/demo?session=${alice.session}`, { 'Sec-WebSocket-Version': '13', Cookie: alice.cookie });
      expect(answer.status).to.equal(400);
      expect(answer.body).to.include({ error: 'ERR_BAD_REQUEST' });
      expect(answer.body.message).to.match(/Sec-WebSocket-Key/);
      expect(answer.headers.connection).to.equal('close');
      expect(answer.raw).to.not.match(/^HTTP\/1\.1 101/);
      await expectHealthy(node);
    });

    it('answers 400 ERR_BAD_REQUEST for an unsupported Sec-WebSocket-Version', async () => {
      const answer = await rawUpgrade(node, `/ws/demo?session=${alice.session}`, { 'Sec-WebSocket-Key': KEY, 'Sec-WebSocket-Version': '12', Cookie: alice.cookie });
      expect(answer.status).to.equal(400);
      expect(answer.body.error).to.equal('ERR_BAD_REQUEST');
      await expectHealthy(node);
    });

    it('names the versions it speaks in Sec-WebSocket-Version when refusing another (RFC 6455 4.2.2)', async () => {
      const answer = await rawUpgrade(node, `/ws/demo?session=${alice.session}`, { 'Sec-WebSocket-Key': KEY, 'Sec-WebSocket-Version': '12', Cookie: alice.cookie });
      expect(answer.status).to.equal(400);
      expect(answer.headers['sec-websocket-version']?.split(/\s*,\s*/).sort()).to.deep.equal(['13', '8']);
    });

    it('answers 400 ERR_BAD_REQUEST as JSON, and counts it, for a malformed Sec-WebSocket-Protocol', async () => {
      const before = (await request(`${node.url}/api/admin/stats`, { headers: ADMIN })).body.counters.handshakes.rejected.ERR_BAD_REQUEST ?? 0;
      const answer = await rawUpgrade(node, `/ws/demo?session=${alice.session}`, {
        'Sec-WebSocket-Key': KEY,
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Protocol': 'chat v2',
        Cookie: alice.cookie,
      });
      expect(answer.status).to.equal(400);
      expect(answer.headers['content-type'], answer.raw).to.match(/^application\/json/);
      expect(answer.body).to.include({ error: 'ERR_BAD_REQUEST' });
      const after = (await request(`${node.url}/api/admin/stats`, { headers: ADMIN })).body.counters.handshakes.rejected.ERR_BAD_REQUEST ?? 0;
      expect(after - before).to.equal(1);
      await untilLocalSockets(node, 0);
    });

    it('answers 400 ERR_BAD_REQUEST for an upgrade that is not a GET', async () => {
      const host = new URL(node.url).host;
      const answer = await rawExchange(
        node.url,
        [`POST /ws/demo?session=${alice.session} HTTP/1.1`, `Host: ${host}`, 'Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', `Cookie: ${alice.cookie}`, 'Content-Length: 0', '', ''].join('\r\n'),
      );
      expect(answer.status).to.equal(400);
      expect(answer.body.error).to.equal('ERR_BAD_REQUEST');
      await expectHealthy(node);
    });

    it('switches protocols over raw HTTP when the same request carries a key', async () => {
      // The control for the two tests above: the refusal is the missing header, not the rest of the request.
      const host = new URL(node.url).host;
      const status = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(new URL(node.url).port), '127.0.0.1', () => {
          socket.write(
            [`GET /ws/demo?session=${alice.session} HTTP/1.1`, `Host: ${host}`, 'Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', `Cookie: ${alice.cookie}`, '', ''].join('\r\n'),
          );
        });
        socket.once('data', (chunk) => {
          resolve(chunk.toString('latin1').split('\r\n')[0]!);
          socket.destroy();
        });
        socket.on('error', reject);
      });
      expect(status).to.equal('HTTP/1.1 101 Switching Protocols');
    });
  });

  describe('#origin', () => {
    it('answers 403 ERR_ORIGIN_DENIED for a foreign Origin', async () => {
      await expectRefused(sockets.refused(as(alice, { headers: { Origin: 'https://evil.example' } })), 403, 'ERR_ORIGIN_DENIED');
    });

    it('answers 403 ERR_ORIGIN_DENIED for an unparsable Origin', async () => {
      await expectRefused(sockets.refused(as(alice, { headers: { Origin: 'null' } })), 403, 'ERR_ORIGIN_DENIED');
    });

    it('answers 403 for an origin that is listed only on another node', async () => {
      await expectRefused(sockets.refused(as(alice, { headers: { Origin: 'https://app.example' } })), 403, 'ERR_ORIGIN_DENIED');
    });

    it('opens for the same origin', async () => {
      await sockets.open(as(alice, { headers: { Origin: node.url } }));
    });

    it('opens without an Origin (backends, devices)', async () => {
      await sockets.open(as(alice));
    });

    it('opens for an origin listed in websockets.allowedOrigins', async () => {
      const listed = await startNode(['--websockets.allowedOrigins', 'https://app.example']);
      const pool = new SocketPool(() => listed.wsUrl);
      try {
        const user = await login(listed.url);
        await pool.open(as(user, { headers: { Origin: 'https://app.example' } }));
        const refusal = await pool.refused(as(user, { headers: { Origin: 'https://other.example' } }));
        expectRefusal(refusal, 403, 'ERR_ORIGIN_DENIED');
      } finally {
        pool.terminateAll();
        await listed.stop();
      }
    });
  });

  describe('#sessionPresent', () => {
    it('answers 400 ERR_SESSION_MISSING without ?session', async () => {
      await expectRefused(sockets.refused({ cookie: alice.cookie }), 400, 'ERR_SESSION_MISSING');
    });

    it('answers 400 ERR_SESSION_MISSING for an empty ?session=', async () => {
      await expectRefused(sockets.refused({ cookie: alice.cookie, session: '' }), 400, 'ERR_SESSION_MISSING');
    });
  });

  describe('#connectionIdFormat', () => {
    for (const [what, id] of [
      ['a space', 'a b'],
      ['65 characters', 'c'.repeat(65)],
      ['an empty id', ''],
      ['a dot', 'a.b'],
    ] as const) {
      it(`answers 400 ERR_CONNECTION_ID_INVALID for ${what}`, async () => {
        await expectRefused(sockets.refused(as(alice, { query: { connection: id } })), 400, 'ERR_CONNECTION_ID_INVALID');
      });
    }

    it('opens with a 64-character id of letters, digits, _ and -', async () => {
      const id = 'A-z_0'.repeat(12) + 'abcd';
      await sockets.open(as(alice, { query: { connection: id } }));
      expect((await listSockets(node, '?contextId=1&userId=3'))[0].connectionId).to.equal(id);
    });
  });

  describe('#connection id in use', () => {
    it('answers 400 ERR_CONNECTION_ID_IN_USE for an id already open for the user', async () => {
      await sockets.open(as(alice, { query: { connection: 'tab' } }));
      await expectRefused(sockets.refused(as(alice, { query: { connection: 'tab' } })), 400, 'ERR_CONNECTION_ID_IN_USE');
    });

    it('refuses the id across two sessions of the same user', async () => {
      const again = await login(node.url);
      await sockets.open(as(alice, { query: { connection: 'tab' } }));
      await expectRefused(sockets.refused(as(again, { query: { connection: 'tab' } })), 400, 'ERR_CONNECTION_ID_IN_USE');
    });

    it('lets another user open the same id', async () => {
      await sockets.open(as(alice, { query: { connection: 'tab' } }));
      await sockets.open(as(bob, { query: { connection: 'tab' } }));
      expect(await listSockets(node, '?contextId=1')).to.have.length(2);
    });

    it('frees the id once its socket is closed', async () => {
      const first = await sockets.open(as(alice, { query: { connection: 'tab' } }));
      first.close();
      await untilLocalSockets(node, 0);
      await sockets.open(as(alice, { query: { connection: 'tab' } }));
    });
  });

  describe('#sessionKnown', () => {
    it('answers 403 ERR_SESSION_UNKNOWN for an id no login issued', async () => {
      await expectRefused(sockets.refused({ session: 'f'.repeat(32), cookie: alice.cookie }), 403, 'ERR_SESSION_UNKNOWN');
    });

    it('answers 403 ERR_SESSION_UNKNOWN for a session that logged out', async () => {
      const gone = await login(node.url);
      const out = await request(`${node.url}/api/logout?session=${gone.session}`, { method: 'POST', headers: { cookie: gone.cookie } });
      expect(out.status).to.equal(204);
      await expectRefused(sockets.refused(as(gone)), 403, 'ERR_SESSION_UNKNOWN');
    });
  });

  describe('#accountEnabled', () => {
    it('answers 403 ERR_DISABLED for a user disabled after the login', async () => {
      node.node.applyDirectory(demoWith((data) => (user(data, 'alice').enabled = false)));
      await expectRefused(sockets.refused(as(alice)), 403, 'ERR_DISABLED');
    });

    it('answers 403 ERR_DISABLED for a user removed from the directory after the login', async () => {
      node.node.applyDirectory(demoWith((data) => (data.users = data.users.filter((u: any) => u.login !== 'alice'))));
      await expectRefused(sockets.refused(as(alice)), 403, 'ERR_DISABLED');
    });

    it('answers 403 ERR_DISABLED when the context is disabled after the login', async () => {
      node.node.applyDirectory(demoWith((data) => (data.contexts[0].enabled = false)));
      await expectRefused(sockets.refused(as(bob)), 403, 'ERR_DISABLED');
    });

    it('opens again once the user is enabled again', async () => {
      node.node.applyDirectory(demoWith((data) => (user(data, 'alice').enabled = false)));
      await expectRefused(sockets.refused(as(alice)), 403, 'ERR_DISABLED');
      node.node.applyDirectory(Directory.parse(DEMO_TEXT, 'demo'));
      await sockets.open(as(alice));
    });
  });

  describe('#secretMatches', () => {
    it('answers 403 ERR_SECRET_MISMATCH without the cookie', async () => {
      await expectRefused(sockets.refused({ session: alice.session }), 403, 'ERR_SECRET_MISMATCH');
    });

    it("answers 403 ERR_SECRET_MISMATCH with another user's cookie", async () => {
      await expectRefused(sockets.refused({ session: alice.session, cookie: bob.cookie }), 403, 'ERR_SECRET_MISMATCH');
    });

    it("answers 403 ERR_SECRET_MISMATCH with another session's cookie of the same user", async () => {
      const again = await login(node.url);
      await expectRefused(sockets.refused({ session: alice.session, cookie: again.cookie }), 403, 'ERR_SECRET_MISMATCH');
    });
  });

  describe('#ipMatches', () => {
    it('answers 403 ERR_IP_MISMATCH from another address than the login', async () => {
      await expectRefused(sockets.refused(as(alice, { localAddress: OTHER_LOOPBACK })), 403, 'ERR_IP_MISMATCH');
    });

    it('opens from another address when session.ipCheck is false', async () => {
      const lax = await startNode(['--session.ipCheck', 'false']);
      const pool = new SocketPool(() => lax.wsUrl);
      try {
        const user = await login(lax.url);
        const socket = await pool.open(as(user, { localAddress: OTHER_LOOPBACK }));
        expect(socket.ws.readyState).to.equal(socket.ws.OPEN);
        const [row] = await listSockets(lax);
        expect(row.remoteAddress).to.equal(OTHER_LOOPBACK);
      } finally {
        pool.terminateAll();
        await lax.stop();
      }
    });
  });

  describe('#socketsEnabled', () => {
    it("answers 403 ERR_DISABLED when the user's context sets websockets.enabled false", async () => {
      await expectRefused(sockets.refused(as(carol)), 403, 'ERR_DISABLED');
    });

    it("opens when the user's own setting overrides the context's false", async () => {
      node.node.applyDirectory(demoWith((data) => (user(data, 'carol').config = { 'websockets.enabled': true })));
      await sockets.open(as(carol));
    });

    it('refuses a user whose own setting is false in an enabled context, after a reload drops the cached answer', async () => {
      await sockets.open(as(alice, { query: { connection: 'before' } }));
      node.node.applyDirectory(demoWith((data) => (user(data, 'alice').config = { 'websockets.enabled': false })));
      await expectRefused(sockets.refused(as(alice, { query: { connection: 'after' } })), 403, 'ERR_DISABLED');
    });
  });

  describe('#plain request on a socket path', () => {
    for (const path of ['/ws/demo', '/ws']) {
      it(`answers 426 ERR_UPGRADE_REQUIRED for a GET without Upgrade on ${path}`, async () => {
        const answer = await request(`${node.url}${path}?session=${alice.session}`, { headers: { cookie: alice.cookie } });
        expect(answer.status).to.equal(426);
        expect(answer.body.error).to.equal('ERR_UPGRADE_REQUIRED');
      });
    }

    it('answers a GET without Upgrade on a Socket.IO path as Engine.IO does: 400 Transport unknown', async () => {
      const answer = await request(`${node.url}/socket.io/appsuite/?session=${alice.session}&EIO=4&transport=polling`, { headers: { cookie: alice.cookie } });
      expect(answer.status).to.equal(400);
      expect(answer.body).to.deep.equal({ code: 0, message: 'Transport unknown' });
    });

    it('names the protocol to upgrade to in an Upgrade header (RFC 9110 15.5.22: a 426 MUST)', async () => {
      const answer = await request(`${node.url}/ws/demo?session=${alice.session}`, { headers: { cookie: alice.cookie } });
      expect(answer.status).to.equal(426);
      expect(answer.headers.upgrade?.toLowerCase()).to.equal('websocket');
    });
  });

  describe('#order of the checks', () => {
    it('answers ERR_PATH_UNKNOWN before a missing session', async () => {
      await expectRefused(sockets.refused({ path: '/nope', cookie: alice.cookie }), 404, 'ERR_PATH_UNKNOWN');
    });

    it('answers ERR_PATH_UNKNOWN before malformed headers', async () => {
      const answer = await rawUpgrade(node, '/nope', { 'Sec-WebSocket-Version': '13' });
      expect(answer.status).to.equal(404);
      expect(answer.body.error).to.equal('ERR_PATH_UNKNOWN');
    });

    it('answers ERR_BAD_REQUEST for malformed headers before an unknown session', async () => {
      const answer = await rawUpgrade(node, '/ws/demo?session=unknown', { 'Sec-WebSocket-Version': '13' });
      expect(answer.status).to.equal(400);
      expect(answer.body.error).to.equal('ERR_BAD_REQUEST');
    });

    it('answers ERR_ORIGIN_DENIED before a missing session', async () => {
      await expectRefused(sockets.refused({ cookie: alice.cookie, headers: { Origin: 'https://evil.example' } }), 403, 'ERR_ORIGIN_DENIED');
    });

    it('answers ERR_SESSION_MISSING before an invalid connection id', async () => {
      await expectRefused(sockets.refused({ cookie: alice.cookie, query: { connection: 'a b' } }), 400, 'ERR_SESSION_MISSING');
    });

    it('answers ERR_CONNECTION_ID_INVALID before an unknown session', async () => {
      await expectRefused(sockets.refused({ session: 'unknown', cookie: alice.cookie, query: { connection: 'a b' } }), 400, 'ERR_CONNECTION_ID_INVALID');
    });

    it('answers ERR_DISABLED before a wrong secret', async () => {
      node.node.applyDirectory(demoWith((data) => (user(data, 'alice').enabled = false)));
      await expectRefused(sockets.refused({ session: alice.session, cookie: bob.cookie }), 403, 'ERR_DISABLED');
    });

    it('answers ERR_SECRET_MISMATCH before an IP mismatch', async () => {
      await expectRefused(sockets.refused({ session: alice.session, localAddress: OTHER_LOOPBACK }), 403, 'ERR_SECRET_MISMATCH');
    });

    it('answers ERR_IP_MISMATCH before sockets disabled by configuration', async () => {
      await expectRefused(sockets.refused(as(carol, { localAddress: OTHER_LOOPBACK })), 403, 'ERR_IP_MISMATCH');
    });

    it('does not reveal an open connection id to a request with a wrong secret', async () => {
      await sockets.open(as(alice, { query: { connection: 'tab' } }));
      await expectRefused(sockets.refused({ session: alice.session, query: { connection: 'tab' } }), 403, 'ERR_SECRET_MISMATCH');
    });
  });
});
