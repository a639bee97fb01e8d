/**
 * Socket.IO on a real node with the real clients: socket.io-client 4.x (Engine.IO v4)
 * and 2.x (Engine.IO v3), each connecting as the reference web client does. Pushes
 * become events, client events are acknowledged and counted, a logout says
 * `session:invalid` first, the handshake checks of `/ws` hold on `/socket.io`, the
 * heartbeat of each version keeps a live client and drops a silent one, and a
 * malformed packet closes only its own socket.
 */
import { expect } from 'chai';
import { admin, eventually, login, openSocket, push, TestSocket, type Login } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { CLIENTS, IoClientPool, PATH, type ClientKind, type IoClient } from '../support/socket-io.ts';

async function stats(node: TestNode): Promise<any> {
  return (await admin(node.url, 'GET', '/api/admin/stats')).body;
}

function socketIoQuery(eio: 3 | 4): Record<string, string> {
  return { EIO: String(eio), transport: 'websocket' };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('Socket.IO with real clients', function () {
  this.timeout(30000);
  let node: TestNode | undefined;
  const clients = new IoClientPool();
  const sockets: TestSocket[] = [];

  function client(kind: ClientKind, auth: Pick<Login, 'session' | 'cookie'>, options: Record<string, unknown> = {}, events: string[] = [], namespace = '/'): IoClient {
    return clients.open(kind, node!.url, auth, { client: options, events, namespace });
  }

  afterEach(async () => {
    clients.closeAll();
    for (const s of sockets.splice(0)) s.close();
    await node?.stop();
    node = undefined;
  });

  for (const kind of CLIENTS) {
    describe(`${kind.name} (EIO=${kind.eio})`, () => {
      it('connects like the reference web client and receives a {name, args} push as that event with its args', async () => {
        node = await startNode();
        const auth = await login(node.url);
        const c = await client(kind, auth, {}, ['calendar:update', 'mail:new']).connected();
        const pushed = await push(node.url, { contextId: auth.contextId, userId: auth.userId, message: { name: 'calendar:update', args: [1, { id: 'x', tags: ['a'] }, 'z'] } });
        expect(pushed.status).to.equal(202);
        expect(pushed.body).to.deep.include({ local: 1, remote: 0 });
        expect(await c.next('calendar:update')).to.deep.equal([1, { id: 'x', tags: ['a'] }, 'z']);
        // The same as a JSON string: the message text is what counts, not how it was posted.
        await push(node.url, { contextId: auth.contextId, userId: auth.userId, message: '{"name":"mail:new","args":[7]}' });
        expect(await c.next('mail:new')).to.deep.equal([7]);
        expect(c.count('message')).to.equal(0);
      });

      it('receives a plain string push, and JSON that is not {name, args}, as the event message', async () => {
        node = await startNode();
        const auth = await login(node.url);
        const c = await client(kind, auth).connected();
        await push(node.url, { contextId: auth.contextId, userId: auth.userId, message: 'hello' });
        expect(await c.next('message')).to.deep.equal(['hello']);
        await push(node.url, { contextId: auth.contextId, userId: auth.userId, message: { name: 'no-args' } });
        expect(await c.next('message', 2)).to.deep.equal(['{"name":"no-args"}']);
      });

      it('gets the events it sends with an ack callback acknowledged, and the node counts every event received', async () => {
        node = await startNode();
        const auth = await login(node.url);
        const c = await client(kind, auth).connected();
        const before = (await stats(node)).counters.messages.received as number;
        const acked = await new Promise<unknown[]>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no ack within 3 s')), 3000);
          c.socket.emit('hello', { a: 1 }, 'two', (...args: unknown[]) => {
            clearTimeout(timer);
            resolve(args);
          });
        });
        expect(acked).to.deep.equal([]);
        c.socket.emit('no-ack', 3);
        await eventually(async () => (await stats(node!)).counters.messages.received === before + 2, 'the node to count 2 received messages');
      });

      it('gets session:invalid before the disconnect on logout, with reason "io server disconnect", and does not reconnect', async () => {
        node = await startNode();
        const auth = await login(node.url);
        const c = await client(kind, auth, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 }).connected();
        const res = await fetch(`${node.url}/api/logout?session=${auth.session}`, { method: 'POST', headers: { cookie: auth.cookie } });
        expect(res.status).to.equal(204);
        // 4.x adds a description argument (undefined here); the reason is what matters.
        expect((await c.next('disconnect'))[0]).to.equal('io server disconnect');
        const order = c.log.map((e) => e.event).filter((e) => e === 'session:invalid' || e === 'disconnect');
        expect(order).to.deep.equal(['session:invalid', 'disconnect']);
        await delay(500); // ten reconnection delays
        expect(c.count('io:reconnect_attempt')).to.equal(0);
        expect(c.count('connect')).to.equal(1);
        expect(c.socket.connected).to.equal(false);
        expect((await stats(node)).sockets.local).to.equal(0);
      });

      it('receives a push named like a reserved event (disconnect) as the event message, and stays connected', async () => {
        node = await startNode();
        const auth = await login(node.url);
        const c = await client(kind, auth).connected();
        await push(node.url, { contextId: auth.contextId, userId: auth.userId, message: { name: 'disconnect', args: ['spoofed'] } });
        await push(node.url, { contextId: auth.contextId, userId: auth.userId, message: 'after' });
        await eventually(() => c.log.some((e) => e.event === 'disconnect' || (e.event === 'message' && e.args[0] === 'after')), 'the next message or a disconnect');
        // 4.x closes the connection on a reserved name ("parse error"); 2.x fires its own disconnect listeners.
        expect(c.log.filter((e) => e.event === 'disconnect')).to.deep.equal([]);
        expect(c.log.filter((e) => e.event === 'message').map((e) => e.args)).to.deep.equal([['{"name":"disconnect","args":["spoofed"]}'], ['after']]);
        expect(c.socket.connected).to.equal(true);
      });

      it('is refused another namespace with "Invalid namespace" (4.x: connect_error, 2.x: error)', async () => {
        node = await startNode();
        const auth = await login(node.url);
        const refused = client(kind, auth, {}, ['error'], '/admin');
        // 2.x appends its query to the CONNECT namespace and ignores an answer for another one.
        const event = kind.eio === 4 ? 'connect_error' : 'error';
        const [error] = await refused.next(event);
        expect(error instanceof Error ? error.message : error).to.equal('Invalid namespace');
        expect(refused.count('connect')).to.equal(0);
      });

      it('disconnects with "io server disconnect" on an operator close (4403), so the client does not come back at once', async () => {
        node = await startNode();
        const auth = await login(node.url);
        const c = await client(kind, auth, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 }).connected();
        const closed = await admin(node.url, 'DELETE', `/api/admin/sockets?contextId=${auth.contextId}&userId=${auth.userId}`);
        expect(closed.body).to.deep.equal({ closed: 1 });
        // Without a Socket.IO disconnect the client sees a bare transport close and is back within reconnectionDelay.
        expect((await c.next('disconnect'))[0]).to.equal('io server disconnect');
        await delay(500);
        expect(c.count('connect')).to.equal(1);
        expect((await stats(node)).sockets.local).to.equal(0);
      });

      it('reports connect_error, not connect, for an unknown session', async () => {
        node = await startNode();
        const auth = await login(node.url);
        const c = client(kind, { session: 'f'.repeat(32), cookie: auth.cookie });
        const [error] = (await c.next('connect_error')) as [Error & { description?: Error }];
        expect(error.message).to.equal('websocket error');
        expect(String(error.description?.message)).to.contain('403');
        expect(c.count('connect')).to.equal(0);
        expect((await stats(node)).counters.handshakes.rejected).to.include({ ERR_SESSION_UNKNOWN: 1 });
      });

      it('reports connect_error for transports: [\'polling\'] (only websocket is served)', async () => {
        node = await startNode();
        const auth = await login(node.url);
        const c = client(kind, auth, { transports: ['polling'] });
        const [error] = (await c.next('connect_error')) as [Error & { description?: unknown }];
        expect(error.message).to.equal('xhr poll error');
        expect(error.description).to.equal(400);
        expect(c.count('connect')).to.equal(0);
      });

      it('reaches the client through the path filter /socket.io/appsuite/*, and not through /ws/*', async () => {
        node = await startNode();
        const auth = await login(node.url);
        const c = await client(kind, auth).connected();
        const listing = (await admin(node.url, 'GET', `/api/admin/sockets?contextId=${auth.contextId}&userId=${auth.userId}`)).body;
        expect(listing.map((s: { path: string }) => s.path)).to.deep.equal([PATH]);
        const missed = await push(node.url, { contextId: auth.contextId, userId: auth.userId, message: 'not for you', pathFilter: '/ws/*' });
        expect(missed.body.local).to.equal(0);
        const other = await push(node.url, { contextId: auth.contextId, userId: auth.userId, message: 'not for you', pathFilter: '/socket.io/appsuitex/*' });
        expect(other.body.local).to.equal(0);
        const hit = await push(node.url, { contextId: auth.contextId, userId: auth.userId, message: 'for you', pathFilter: '/socket.io/appsuite/*' });
        expect(hit.body.local).to.equal(1);
        expect(await c.next('message')).to.deep.equal(['for you']);
        const exact = await push(node.url, { contextId: auth.contextId, userId: auth.userId, message: 'exactly', pathFilter: PATH });
        expect(exact.body.local).to.equal(1);
        expect(await c.next('message', 2)).to.deep.equal(['exactly']);
        expect(c.count('message')).to.equal(2);
      });

      it(
        kind.eio === 4
          ? 'stays connected for more than a second with 100 ms heartbeats: the server pings, the client pongs'
          : 'stays connected for more than a second with 100 ms heartbeats: the client pings, the server pongs',
        async () => {
          node = await startNode(['--websockets.pingInterval', '100', '--websockets.pingTimeout', '100']);
          const auth = await login(node.url);
          const c = await client(kind, auth).connected();
          await delay(1300);
          expect(c.count('disconnect'), JSON.stringify(c.log.filter((e) => e.event === 'disconnect'))).to.equal(0);
          expect(c.socket.connected).to.equal(true);
          // The heartbeat really ran: the 4.x manager emits `ping` per server ping, the
          // 2.x manager `pong` per server answer to its own ping.
          expect(c.count(kind.eio === 4 ? 'io:ping' : 'io:pong')).to.be.at.least(5);
          await push(node.url, { contextId: auth.contextId, userId: auth.userId, message: 'still here' });
          expect(await c.next('message')).to.deep.equal(['still here']);
        },
      );
    });
  }

  describe('handshake on /socket.io (raw ws upgrades)', () => {
    for (const eio of [4, 3] as const) {
      it(`refuses an unknown session with 403 ERR_SESSION_UNKNOWN (EIO=${eio})`, async () => {
        node = await startNode();
        const auth = await login(node.url);
        const refused = await openSocket(node.wsUrl, { session: 'f'.repeat(32), cookie: auth.cookie }, `${PATH}/`, socketIoQuery(eio)).catch((e) => e);
        expect(refused.status).to.equal(403);
        expect(refused.body).to.include({ error: 'ERR_SESSION_UNKNOWN' });
      });
    }

    it('refuses a known session without its secret cookie with 403 ERR_SECRET_MISMATCH', async () => {
      node = await startNode();
      const auth = await login(node.url);
      const refused = await openSocket(node.wsUrl, { session: auth.session, cookie: '' }, `${PATH}/`, socketIoQuery(4)).catch((e) => e);
      expect(refused.status).to.equal(403);
      expect(refused.body).to.include({ error: 'ERR_SECRET_MISMATCH' });
    });

    it('refuses a missing session with 400 ERR_SESSION_MISSING', async () => {
      node = await startNode();
      const auth = await login(node.url);
      const socket = new TestSocket(`${node.wsUrl}${PATH}/?EIO=4&transport=websocket`, { headers: { cookie: auth.cookie } });
      sockets.push(socket);
      const refused = await socket.opened().catch((e) => e);
      expect(refused.status).to.equal(400);
      expect(refused.body).to.include({ error: 'ERR_SESSION_MISSING' });
    });

    const badParams: Array<[string, Record<string, string>]> = [
      ['without EIO', { transport: 'websocket' }],
      ['with EIO=5', { EIO: '5', transport: 'websocket' }],
      ['with EIO=2', { EIO: '2', transport: 'websocket' }],
      ['without transport', { EIO: '4' }],
      ['with transport=polling', { EIO: '4', transport: 'polling' }],
    ];
    for (const [what, query] of badParams) {
      it(`refuses an upgrade ${what} with 400 ERR_BAD_REQUEST, valid session or not`, async () => {
        node = await startNode();
        const auth = await login(node.url);
        const refused = await openSocket(node.wsUrl, auth, `${PATH}/`, query).catch((e) => e);
        expect(refused.status).to.equal(400);
        expect(refused.body).to.include({ error: 'ERR_BAD_REQUEST' });
        expect((await stats(node)).sockets.local).to.equal(0);
      });
    }

    it('accepts the same request on /ws without EIO: the Engine.IO parameters are for Socket.IO paths only', async () => {
      node = await startNode();
      const auth = await login(node.url);
      sockets.push(await openSocket(node.wsUrl, auth, '/ws/appsuite'));
    });

    it('answers a transport=polling GET with 400 and exactly Engine.IO\'s {"code":0,"message":"Transport unknown"}', async () => {
      node = await startNode();
      const auth = await login(node.url);
      for (const eio of [3, 4]) {
        const res = await fetch(`${node.url}${PATH}/?EIO=${eio}&transport=polling&session=${auth.session}&t=abc`, { headers: { cookie: auth.cookie } });
        expect(res.status).to.equal(400);
        expect(res.headers.get('content-type')).to.match(/^application\/json/);
        expect(await res.text()).to.equal('{"code":0,"message":"Transport unknown"}');
      }
    });
  });

  describe('heartbeat of a silent raw client on the Socket.IO path', () => {
    it('drops an EIO=4 client that never answers the server\'s 2 (1006, no close frame)', async () => {
      node = await startNode(['--websockets.pingInterval', '100', '--websockets.pingTimeout', '100']);
      const auth = await login(node.url);
      const socket = await openSocket(node.wsUrl, auth, `${PATH}/`, socketIoQuery(4));
      sockets.push(socket);
      socket.ws.send('40');
      const started = Date.now();
      expect(await socket.closedWith(2000)).to.equal(1006);
      expect(Date.now() - started).to.be.below(1000);
      expect(socket.frames[0]).to.match(/^0\{/);
      expect(socket.frames).to.include('2');
      await eventually(async () => (await stats(node!)).sockets.local === 0, 'the node to forget the socket');
    });

    it('drops an EIO=3 client that never pings (1006)', async () => {
      node = await startNode(['--websockets.pingInterval', '100', '--websockets.pingTimeout', '100']);
      const auth = await login(node.url);
      const socket = await openSocket(node.wsUrl, auth, `${PATH}/`, socketIoQuery(3));
      sockets.push(socket);
      expect(await socket.closedWith(2000)).to.equal(1006);
      expect(socket.frames.slice(0, 2)).to.deep.equal([socket.frames[0], '40']);
      expect(socket.frames).not.to.include('2'); // in v3 the server never pings
    });

    it('keeps an EIO=4 raw client that answers every 2 with 3', async () => {
      node = await startNode(['--websockets.pingInterval', '100', '--websockets.pingTimeout', '100']);
      const auth = await login(node.url);
      const socket = await openSocket(node.wsUrl, auth, `${PATH}/`, socketIoQuery(4));
      sockets.push(socket);
      socket.ws.on('message', (data) => {
        if (data.toString() === '2') socket.ws.send('3');
      });
      await delay(800);
      expect(socket.closeCode).to.equal(undefined);
      expect(socket.frames.filter((f) => f === '2').length).to.be.at.least(3);
    });
  });

  describe('malformed packets from a raw client on /socket.io/x', () => {
    // Close reasons as docs/protocol.md lists them.
    const ENGINE_IO = /^unknown Engine\.IO packet type/;
    const EVENT_PAYLOAD = /^event payload/;
    const BINARY = /^binary .* not supported$/;
    const cases: Array<{ what: string; eio: 3 | 4; frame: string | Buffer; code: number; reason: RegExp }> = [
      { what: '42{bad json (EVENT with invalid JSON)', eio: 4, frame: '42{bad json', code: 4400, reason: EVENT_PAYLOAD },
      { what: '9 (unknown Engine.IO type)', eio: 4, frame: '9', code: 4400, reason: ENGINE_IO },
      { what: '42"not-array"', eio: 4, frame: '42"not-array"', code: 4400, reason: EVENT_PAYLOAD },
      { what: '42[1] (event name not a string)', eio: 4, frame: '42[1]', code: 4400, reason: EVENT_PAYLOAD },
      { what: 'an empty text frame', eio: 4, frame: '', code: 4400, reason: ENGINE_IO },
      { what: '47 (unknown Socket.IO type)', eio: 4, frame: '47', code: 4400, reason: /^unknown Socket\.IO packet type/ },
      { what: '4 (MESSAGE without a packet)', eio: 4, frame: '4', code: 4400, reason: /./ },
      { what: 'a binary frame', eio: 4, frame: Buffer.from([1, 2, 3]), code: 1003, reason: BINARY },
      { what: '451-[...] (BINARY_EVENT)', eio: 4, frame: '451-["e",{"_placeholder":true,"num":0}]', code: 1003, reason: BINARY },
      { what: '42{bad json on EIO=3', eio: 3, frame: '42{bad json', code: 4400, reason: EVENT_PAYLOAD },
      { what: 'a binary frame on EIO=3', eio: 3, frame: Buffer.from([4, 2]), code: 1003, reason: BINARY },
    ];
    for (const { what, eio, frame, code, reason } of cases) {
      it(`closes with ${code} on ${what}; the node stays healthy and serves another client`, async () => {
        node = await startNode();
        const auth = await login(node.url);
        const socket = await openSocket(node.wsUrl, auth, '/socket.io/x/', socketIoQuery(eio));
        sockets.push(socket);
        // The socket works before the bad packet: v4 connects on request, v3 on open.
        if (eio === 4) {
          socket.ws.send('40');
          // With history on (the default) the answer names the recovery pid too.
          expect((await socket.nextFrames(2))[1]).to.match(/^40\{"sid":"[^"]+","pid":"[^"]+"\}$/);
        } else {
          expect((await socket.nextFrames(2))[1]).to.equal('40');
        }
        socket.ws.send(frame, { binary: Buffer.isBuffer(frame) });
        expect(await socket.closedWith()).to.equal(code);
        expect(socket.closeReason).to.match(reason);

        const health = await fetch(`${node.url}/healthz`);
        expect(health.status).to.equal(200);
        expect(await health.json()).to.include({ status: 'ok' });
        const other = await client(CLIENTS[0], auth).connected();
        await push(node.url, { contextId: auth.contextId, userId: auth.userId, message: 'after', pathFilter: PATH });
        expect(await other.next('message')).to.deep.equal(['after']);
        expect((await stats(node)).sockets.local).to.equal(1);
      });
    }

    it('answers CONNECT to another namespace with CONNECT_ERROR and keeps the socket open', async () => {
      node = await startNode();
      const auth = await login(node.url);
      const socket = await openSocket(node.wsUrl, auth, '/socket.io/x/', socketIoQuery(4));
      sockets.push(socket);
      socket.ws.send('40/admin,');
      expect((await socket.nextFrames(2))[1]).to.equal('44/admin,{"message":"Invalid namespace"}');
      socket.ws.send('421["still",1]');
      expect((await socket.nextFrames(3))[2]).to.equal('431[]');
      expect(socket.closeCode).to.equal(undefined);
    });
  });
});
