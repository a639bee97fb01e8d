/**
 * What an open socket enforces, on real sockets: keepalive, backpressure, frame size
 * and type, session expiry.
 */
import { expect } from 'chai';
import WebSocket from 'ws';
import { startNode, type TestNode } from '../support/node.ts';
import { admin, eventually, login, openSocket, push, TestSocket } from '../support/client.ts';

describe('open sockets', () => {
  let node: TestNode;
  const sockets: TestSocket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await node?.stop();
  });

  describe('keepalive', () => {
    it('keeps a socket whose client answers pings open across many intervals', async () => {
      node = await startNode(['--websockets.pingInterval', '50', '--websockets.pingTimeout', '50']);
      const socket = await openSocket(node.wsUrl, await login(node.url));
      sockets.push(socket);
      let pings = 0;
      socket.ws.on('ping', () => pings++);
      await eventually(() => pings >= 5, '5 pings');
      expect(socket.closeCode).to.equal(undefined);
      expect(node.node.index.size).to.equal(1);
    });

    it('drops a client that stops answering pings within pingInterval + pingTimeout', async () => {
      const logs: string[] = [];
      node = await startNode(['--websockets.pingInterval', '50', '--websockets.pingTimeout', '50'], { logs });
      const auth = await login(node.url);
      const params = new URLSearchParams({ session: auth.session, connection: 'silent' });
      const socket = new TestSocket(`${node.wsUrl}/ws/demo?${params}`, { headers: { cookie: auth.cookie }, autoPong: false });
      sockets.push(socket);
      await socket.opened();
      // No close frame: a dead peer would not read it. The client sees the TCP end.
      expect(await socket.closedWith(2000)).to.equal(1006);
      await eventually(() => node.node.index.size === 0, 'the socket to leave the index');
      const closed = logs.map((l) => JSON.parse(l)).find((l) => l.event === 'ws.closed');
      expect(closed).to.include({ connectionId: 'silent', by: 'keepalive', code: 1006 });
    });
  });

  describe('backpressure', () => {
    it('closes a consumer that does not read with 1013 and counts it, without touching other sockets', async () => {
      node = await startNode(['--websockets.maxBufferedBytes', '65536', '--websockets.maxSocketsPerUser', '3']);
      const auth = await login(node.url);
      const slow = await openSocket(node.wsUrl, auth, '/ws/slow');
      const fast = await openSocket(node.wsUrl, auth, '/ws/fast');
      sockets.push(slow, fast);
      // Stop reading: the kernel buffers fill, then ws's own buffer grows.
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const chunk = 'x'.repeat(32 * 1024);
      let pushes = 0;
      await eventually(async () => {
        await push(node.url, { contextId: 1, userId: 3, message: chunk, pathFilter: '/ws/slow' });
        pushes++;
        return node.node.stats.slowConsumerCloses === 1 || pushes > 2000;
      }, 'the slow consumer to be closed', 15000);
      expect(node.node.stats.slowConsumerCloses).to.equal(1);
      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await slow.closedWith(5000)).to.equal(1013);
      // The other socket of the same user still works.
      await push(node.url, { contextId: 1, userId: 3, message: 'still here', pathFilter: '/ws/fast' });
      expect((await fast.nextFrames(1))[0]).to.equal('still here');
      const stats = await admin(node.url, 'GET', '/api/admin/stats');
      expect(stats.body.counters.slowConsumerCloses).to.equal(1);
    });
  });

  describe('inbound frames', () => {
    it('closes with 1009 when a frame is larger than maxPayload', async () => {
      node = await startNode(['--websockets.maxPayload', '1024']);
      const socket = await openSocket(node.wsUrl, await login(node.url));
      sockets.push(socket);
      socket.ws.send('y'.repeat(1025));
      expect(await socket.closedWith()).to.equal(1009);
      await eventually(() => node.node.index.size === 0, 'the socket to leave the index');
    });

    it('accepts a frame of exactly maxPayload and counts it', async () => {
      node = await startNode(['--websockets.maxPayload', '1024']);
      const socket = await openSocket(node.wsUrl, await login(node.url));
      sockets.push(socket);
      socket.ws.send('y'.repeat(1024));
      await eventually(() => node.node.stats.messagesReceived === 1, 'the frame to be received');
      expect(socket.closeCode).to.equal(undefined);
    });

    it('closes with 1003 on a binary frame', async () => {
      node = await startNode();
      const socket = await openSocket(node.wsUrl, await login(node.url));
      sockets.push(socket);
      socket.ws.send(Buffer.from([1, 2, 3]));
      expect(await socket.closedWith()).to.equal(1003);
    });

    it('closes with 1007 on a text frame that is not UTF-8', async () => {
      node = await startNode();
      const socket = await openSocket(node.wsUrl, await login(node.url));
      sockets.push(socket);
      // ws's client refuses to send invalid UTF-8 as text; write the frame by hand.
      const raw = (socket.ws as unknown as { _socket: import('node:net').Socket })._socket;
      raw.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28]));
      expect(await socket.closedWith()).to.equal(1007);
    });
  });

  describe('session end', () => {
    it('closes the sockets of an expired session with 4401', async () => {
      node = await startNode(['--session.maxAge', '400']);
      const socket = await openSocket(node.wsUrl, await login(node.url));
      sockets.push(socket);
      expect(await socket.closedWith(3000)).to.equal(4401);
      expect(node.node.sessions.size()).to.equal(0);
    });
  });

  describe('shutdown', () => {
    it('closes every socket with 1001 and ends in stopped', async () => {
      node = await startNode();
      const socket = await openSocket(node.wsUrl, await login(node.url));
      sockets.push(socket);
      const stopped = node.stop();
      expect(await socket.closedWith()).to.equal(1001);
      await stopped;
      expect(node.node.supervisor.actor.getSnapshot().value).to.equal('stopped');
      expect(node.node.index.size).to.equal(0);
    });

    it('drops a client that never answers the close once server.shutdownTimeout has passed', async () => {
      node = await startNode(['--server.shutdownTimeout', '300']);
      const socket = await openSocket(node.wsUrl, await login(node.url));
      sockets.push(socket);
      (socket.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const started = Date.now();
      await node.stop();
      const took = Date.now() - started;
      expect(took).to.be.within(250, 5000);
      expect(node.node.supervisor.actor.getSnapshot().value).to.equal('stopped');
    });
  });
});

void WebSocket;
