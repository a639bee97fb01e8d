import net from 'node:net';
import { expect } from 'chai';
import { eventually, login, type Login } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { ADMIN, as, expectRefusal, listSockets, OTHER_LOOPBACK, rawExchange, request, SocketPool, untilLocalSockets } from './support/http.ts';

/**
 * Admission of upgrades that passed authentication (connection id in use, per-user
 * limit, concurrency), what a refused connection leaves behind, and the counters.
 * The checks themselves, in order, are in handshake.spec.ts.
 */
describe('http handshake admission', () => {
  let node: TestNode;
  let alice: Login;
  const sockets = new SocketPool(() => node.wsUrl);

  before(async () => {
    node = await startNode();
    alice = await login(node.url);
  });

  afterEach(async () => {
    sockets.terminateAll();
    await untilLocalSockets(node, 0);
  });

  after(async () => {
    await node?.stop();
  });

  describe('#per-user socket limit', () => {
    let limited: TestNode;
    let user: Login;
    const pool = new SocketPool(() => limited.wsUrl);

    before(async () => {
      limited = await startNode(['--websockets.maxSocketsPerUser', '2']);
      user = await login(limited.url);
    });

    afterEach(async () => {
      pool.terminateAll();
      await untilLocalSockets(limited, 0);
    });

    after(async () => {
      await limited?.stop();
    });

    it('answers 429 ERR_TOO_MANY_SOCKETS for the socket past the limit', async () => {
      await pool.open(as(user, { query: { connection: 'one' } }));
      await pool.open(as(user, { query: { connection: 'two' } }));
      const refusal = await pool.refused(as(user, { query: { connection: 'three' } }));
      expectRefusal(refusal, 429, 'ERR_TOO_MANY_SOCKETS');
      expect(await listSockets(limited, '?contextId=1&userId=3')).to.have.length(2);
    });

    it("counts per user: another user's sockets do not count", async () => {
      const other = await login(limited.url, 'bob@demo', 'builder');
      await pool.open(as(user));
      await pool.open(as(user));
      await pool.open(as(other));
      await pool.open(as(other));
    });

    it('opens a new socket once one of the full set is closed', async () => {
      const first = await pool.open(as(user, { query: { connection: 'one' } }));
      await pool.open(as(user, { query: { connection: 'two' } }));
      expectRefusal(await pool.refused(as(user)), 429, 'ERR_TOO_MANY_SOCKETS');
      first.close();
      await eventually(async () => (await listSockets(limited, '?contextId=1&userId=3')).length === 1, 'the closed socket to leave the listing');
      await pool.open(as(user, { query: { connection: 'three' } }));
    });

    it('answers ERR_CONNECTION_ID_IN_USE before the limit when both apply', async () => {
      await pool.open(as(user, { query: { connection: 'one' } }));
      await pool.open(as(user, { query: { connection: 'two' } }));
      expectRefusal(await pool.refused(as(user, { query: { connection: 'one' } })), 400, 'ERR_CONNECTION_ID_IN_USE');
    });
  });

  describe('#concurrent handshakes', () => {
    it('opens exactly one of two simultaneous handshakes asking for the same connection id', async () => {
      const outcomes = await Promise.allSettled([sockets.open(as(alice, { query: { connection: 'race' } })), sockets.open(as(alice, { query: { connection: 'race' } }))]);
      expect(outcomes.map((o) => o.status).sort()).to.deep.equal(['fulfilled', 'rejected']);
      expect(String((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason)).to.contain('ERR_CONNECTION_ID_IN_USE');
      expect(await listSockets(node, '?contextId=1&userId=3')).to.have.length(1);
    });

    it('never admits more than the limit when handshakes arrive together', async () => {
      const limited = await startNode(['--websockets.maxSocketsPerUser', '2']);
      const pool = new SocketPool(() => limited.wsUrl);
      try {
        const user = await login(limited.url);
        const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => pool.open(as(user))));
        expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(2);
        for (const o of outcomes) if (o.status === 'rejected') expect(String(o.reason)).to.contain('ERR_TOO_MANY_SOCKETS');
        expect(limited.node.index.size).to.equal(2);
      } finally {
        pool.terminateAll();
        await limited.stop();
      }
    });
  });

  describe('#refused connection', () => {
    /** Sends a refused upgrade from a client that keeps its half of the connection open after the server's FIN. */
    function halfOpenRefusal(target: TestNode): Promise<{ socket: net.Socket; response: string }> {
      return new Promise((resolve, reject) => {
        const socket = net.connect({ port: Number(new URL(target.url).port), host: '127.0.0.1', allowHalfOpen: true });
        let response = '';
        socket.on('data', (chunk) => (response += chunk.toString('latin1')));
        socket.on('end', () => resolve({ socket, response }));
        socket.on('error', reject);
        socket.on('connect', () => socket.write('GET /nope HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'));
      });
    }

    function serverConnections(target: TestNode): Promise<number> {
      return new Promise((resolve, reject) => target.node.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    }

    // A node of its own: `fetch` keeps idle connections to the shared node, which would be counted too.
    it('releases the connection of a refused handshake even when the client keeps its half open', async () => {
      const lone = await startNode();
      const { socket, response } = await halfOpenRefusal(lone);
      try {
        expect(response).to.match(/^HTTP\/1\.1 404 /);
        await eventually(async () => (await serverConnections(lone)) === 0, 'the server to drop the refused connection', 1000);
      } finally {
        socket.destroy();
        await lone.stop();
      }
    });

    it('stops the node while a refused client keeps its half of the connection open', async () => {
      const stopping = await startNode(['--server.shutdownTimeout', '300']);
      const { socket } = await halfOpenRefusal(stopping);
      try {
        const outcome = await Promise.race([stopping.stop().then(() => 'stopped'), new Promise((resolve) => setTimeout(() => resolve('still stopping after 1.5 s'), 1500))]);
        expect(outcome).to.equal('stopped');
      } finally {
        socket.destroy();
        await stopping.stop();
      }
    });
  });

  describe('#rejection counters', () => {
    it('counts each refused handshake under its code in GET /api/admin/stats', async () => {
      const fresh = await startNode(['--websockets.maxSocketsPerUser', '1']);
      const pool = new SocketPool(() => fresh.wsUrl);
      try {
        const [a, c] = await Promise.all([login(fresh.url), login(fresh.url, 'carol@acme', 'carol-pass')]);
        const refuse = async (request: Parameters<SocketPool['refused']>[0], code: string) => expect((await pool.refused(request)).body.error).to.equal(code);
        await refuse(as(a, { path: '/nope' }), 'ERR_PATH_UNKNOWN');
        const raw = await rawExchange(fresh.url, `GET /ws/demo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`);
        expect(raw.body.error).to.equal('ERR_BAD_REQUEST');
        await refuse(as(a, { headers: { Origin: 'https://evil.example' } }), 'ERR_ORIGIN_DENIED');
        await refuse({ cookie: a.cookie }, 'ERR_SESSION_MISSING');
        await refuse(as(a, { query: { connection: 'a b' } }), 'ERR_CONNECTION_ID_INVALID');
        await refuse({ session: 'unknown', cookie: a.cookie }, 'ERR_SESSION_UNKNOWN');
        await refuse(as(c), 'ERR_DISABLED');
        await refuse({ session: a.session }, 'ERR_SECRET_MISMATCH');
        await refuse(as(a, { localAddress: OTHER_LOOPBACK }), 'ERR_IP_MISMATCH');
        await pool.open(as(a, { query: { connection: 'tab' } }));
        await refuse(as(a, { query: { connection: 'tab' } }), 'ERR_CONNECTION_ID_IN_USE');
        await refuse(as(a, { query: { connection: 'other' } }), 'ERR_TOO_MANY_SOCKETS');
        await refuse(as(a, { path: '/wsx' }), 'ERR_PATH_UNKNOWN');
        // A plain GET is not a handshake: it is answered 426 and not counted.
        expect((await request(`${fresh.url}/ws/demo`)).status).to.equal(426);

        const stats = await request(`${fresh.url}/api/admin/stats`, { headers: ADMIN });
        expect(stats.body.counters.handshakes).to.deep.equal({
          accepted: 1,
          rejected: {
            ERR_PATH_UNKNOWN: 2,
            ERR_BAD_REQUEST: 1,
            ERR_ORIGIN_DENIED: 1,
            ERR_SESSION_MISSING: 1,
            ERR_CONNECTION_ID_INVALID: 1,
            ERR_SESSION_UNKNOWN: 1,
            ERR_DISABLED: 1,
            ERR_SECRET_MISMATCH: 1,
            ERR_IP_MISMATCH: 1,
            ERR_CONNECTION_ID_IN_USE: 1,
            ERR_TOO_MANY_SOCKETS: 1,
          },
        });
      } finally {
        pool.terminateAll();
        await fresh.stop();
      }
    });
  });
});
