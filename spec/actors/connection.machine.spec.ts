/**
 * The connection machine with a simulated clock and a recording socket (a unit below
 * the real socket; the real-socket behaviour is in spec/integration).
 */
import { expect } from 'chai';
import { SimulatedClock } from 'xstate';
import type { WebSocket } from 'ws';
import { createConnectionActor, type ConnectionHooks, type ConnectionPortsInput } from '../../src/actors/connection.machine.ts';
import { deliverMessage } from '../../src/actors/connection-delivery.ts';
import { rawProtocol } from '../../src/protocol/raw.ts';
import type { WireProtocol } from '../../src/protocol/wire-protocol.ts';
import { CloseCode } from '../../src/errors.ts';

const out = (message: string) => ({ id: 'm', message, contextId: 1, userId: 3, pathFilter: null });

class RecordingSocket {
  sent: string[] = [];
  pings = 0;
  closedWith: [number, string] | undefined;
  terminated = false;
  bufferedAmount = 0;
  send(frame: string) {
    this.sent.push(frame);
  }
  ping() {
    this.pings++;
  }
  close(code: number, reason: string) {
    this.closedWith = [code, reason];
  }
  terminate() {
    this.terminated = true;
  }
}

function setup(overrides: Partial<ConnectionPortsInput> = {}, stream?: { since?: string; awaitConnect: boolean }) {
  const clock = new SimulatedClock();
  const calls = { inbound: [] as string[], slow: 0, recovers: [] as Array<{ since?: string; pid?: string }> };
  const hooks: ConnectionHooks = {
    inbound: (_c, message) => calls.inbound.push(message.text),
    slowConsumer: () => calls.slow++,
    recover: (_actor, request) => calls.recovers.push(request),
  };
  const actor = createConnectionActor(
    {
      connectionId: 'c1',
      path: '/ws/demo',
      remoteAddress: '127.0.0.1',
      protocol: (overrides.protocol ?? rawProtocol).name,
      settings: { pingInterval: 1000, pingTimeout: 500, maxBufferedBytes: 100 },
      ...(stream ? { stream } : {}),
    },
    {
      protocol: rawProtocol,
      hooks,
      now: () => clock.now(),
      random: () => 0.5, // no jitter: the intervals below are exact
      ...overrides,
    },
    { clock },
  ).start();
  const socket = new RecordingSocket();
  const open = () => {
    actor.send({ type: 'handshake.accepted', identity: { contextId: 1, userId: 3, sessionId: 's' } });
    actor.send({ type: 'ws.opened', socket: socket as unknown as WebSocket });
  };
  return { actor, clock, socket, calls, open };
}

describe('connectionMachine', () => {
  describe('lifecycle', () => {
    it('goes upgrade -> authenticated -> open -> closing -> closed and reports what happened', () => {
      const { actor, socket, open, clock } = setup();
      expect(actor.getSnapshot().value).to.equal('upgrade');
      actor.send({ type: 'handshake.accepted', identity: { contextId: 1, userId: 3, sessionId: 's' } });
      expect(actor.getSnapshot().value).to.equal('authenticated');
      actor.send({ type: 'ws.opened', socket: socket as unknown as WebSocket });
      expect(actor.getSnapshot().value).to.deep.equal({ open: 'idle' });
      expect(deliverMessage(actor, out('m1'))).to.equal('written');
      clock.increment(250);
      actor.send({ type: 'conn.close', code: CloseCode.CLOSED_BY_ADMIN, reason: 'closed by operator' });
      expect(actor.getSnapshot().value).to.equal('closing');
      expect(socket.closedWith).to.deep.equal([4403, 'closed by operator']);
      actor.send({ type: 'ws.closed', code: 4403, reason: '' });
      const snapshot = actor.getSnapshot();
      expect(snapshot.status).to.equal('done');
      expect(snapshot.output).to.include({ connectionId: 'c1', code: 4403, by: 'server', sent: 1, received: 0, durationMs: 250 });
      void open;
    });

    it('keeps its context plain data in every state: it survives structuredClone and a JSON round trip unchanged', () => {
      const { actor, open } = setup();
      const check = () => {
        const { context } = actor.getSnapshot();
        // structuredClone throws on a function or a class with internal slots (a socket's handle).
        expect(structuredClone(context)).to.deep.equal(context);
        expect(JSON.parse(JSON.stringify(context))).to.deep.equal(context);
      };
      check();
      open();
      deliverMessage(actor, out('m1'));
      expect(actor.getSnapshot().context).to.deep.include({ protocol: 'raw', stats: { sent: 1, received: 0 } });
      check();
      actor.send({ type: 'conn.close', code: 1000, reason: 'bye' });
      check();
      actor.send({ type: 'ws.closed', code: 1000, reason: '' });
      check();
    });

    it('ends in closed with the error code when the handshake is rejected', () => {
      const { actor } = setup();
      actor.send({ type: 'handshake.rejected', code: 'ERR_SECRET_MISMATCH' });
      expect(actor.getSnapshot().status).to.equal('done');
      expect(actor.getSnapshot().output).to.include({ rejection: 'ERR_SECRET_MISMATCH', by: 'rejected' });
    });

    it('records a close by the client', () => {
      const { actor, open } = setup();
      open();
      actor.send({ type: 'ws.closed', code: 1000, reason: 'bye' });
      expect(actor.getSnapshot().output).to.include({ code: 1000, reason: 'bye', by: 'client' });
    });
  });

  describe('keepalive', () => {
    it('jitters each ping interval by at most 10%, so sockets opened together drift apart', () => {
      const early = setup({ random: () => 0 });
      early.open();
      early.clock.increment(899);
      expect(early.socket.pings).to.equal(0);
      early.clock.increment(1);
      expect(early.socket.pings).to.equal(1);
      const late = setup({ random: () => 1 });
      late.open();
      late.clock.increment(1099);
      expect(late.socket.pings).to.equal(0);
      late.clock.increment(1);
      expect(late.socket.pings).to.equal(1);
    });

    it('pings after pingInterval and goes back to idle on a pong', () => {
      const { actor, socket, clock, open } = setup();
      open();
      clock.increment(999);
      expect(socket.pings).to.equal(0);
      clock.increment(1);
      expect(socket.pings).to.equal(1);
      expect(actor.getSnapshot().value).to.deep.equal({ open: 'probing' });
      actor.send({ type: 'peer.alive' });
      expect(actor.getSnapshot().value).to.deep.equal({ open: 'idle' });
      clock.increment(1000);
      expect(socket.pings).to.equal(2);
    });

    it('drops a peer that does not answer within pingTimeout, without a close frame', () => {
      const { actor, socket, clock, open } = setup();
      open();
      clock.increment(1000);
      clock.increment(499);
      expect(actor.getSnapshot().status).to.equal('active');
      clock.increment(1);
      expect(socket.terminated).to.equal(true);
      expect(socket.closedWith).to.equal(undefined);
      expect(actor.getSnapshot().output).to.include({ code: CloseCode.ABNORMAL, by: 'keepalive', reason: 'keepalive timeout' });
    });

    it('restarts the wait on every sign of life when the client is the one that pings', () => {
      const clientPings: WireProtocol = { ...rawProtocol, ping: 'client-pings', decode: () => ({ kind: 'alive', reply: ['3'] }) };
      const { actor, socket, clock, open } = setup({ protocol: clientPings });
      open();
      for (let i = 0; i < 5; i++) {
        clock.increment(900);
        actor.send({ type: 'ws.message', data: Buffer.from('2'), isBinary: false });
      }
      expect(actor.getSnapshot().value).to.deep.equal({ open: 'idle' });
      expect(socket.sent).to.deep.equal(['3', '3', '3', '3', '3']);
      expect(socket.pings).to.equal(0);
      clock.increment(1000);
      expect(actor.getSnapshot().value).to.deep.equal({ open: 'probing' });
      clock.increment(500);
      expect(actor.getSnapshot().status).to.equal('done');
    });
  });

  describe('delivery (connection-delivery.ts)', () => {
    it('writes each message as one frame and counts it, without an event', () => {
      const { actor, socket, open } = setup();
      open();
      const before = actor.getSnapshot();
      expect(deliverMessage(actor, out('a'))).to.equal('written');
      expect(deliverMessage(actor, out('{"b":1}'))).to.equal('written');
      expect(socket.sent).to.deep.equal(['a', '{"b":1}']);
      expect(actor.getSnapshot().context.stats.sent).to.equal(2);
      // No transition was taken: the same snapshot, counters mutated in place.
      expect(actor.getSnapshot()).to.equal(before);
    });

    it('writes nothing before the socket is open, nor once it is closing, and says why', () => {
      const { actor, socket, open } = setup();
      expect(deliverMessage(actor, out('too early'))).to.equal('closing');
      actor.send({ type: 'handshake.accepted', identity: { contextId: 1, userId: 3, sessionId: 's' } });
      expect(deliverMessage(actor, out('still too early'))).to.equal('closing');
      open();
      actor.send({ type: 'conn.close', code: 1000, reason: 'bye' });
      expect(deliverMessage(actor, out('too late'))).to.equal('closing');
      expect(socket.sent).to.deep.equal([]);
      expect(actor.getSnapshot().context.stats.sent).to.equal(0);
    });

    it('closes a slow consumer with 1013 once bufferedAmount passes maxBufferedBytes', () => {
      const { actor, socket, calls, open } = setup();
      open();
      socket.bufferedAmount = 100;
      expect(deliverMessage(actor, out('at the limit'))).to.equal('written');
      expect(actor.getSnapshot().matches('open')).to.equal(true);
      socket.bufferedAmount = 101;
      expect(deliverMessage(actor, out('over'))).to.equal('written');
      expect(calls.slow).to.equal(1);
      expect(socket.closedWith).to.deep.equal([CloseCode.TRY_AGAIN_LATER, 'slow consumer']);
      expect(actor.getSnapshot().value).to.equal('closing');
      expect(deliverMessage(actor, out('after'))).to.equal('closing');
      expect(socket.sent).to.deep.equal(['at the limit', 'over']);
    });

    it('closes the socket with 1011 when its protocol cannot encode a message, never throws to the caller, and says invalid', () => {
      const exploding: WireProtocol = { ...rawProtocol, encode: () => { throw new Error(`boom ${'é'.repeat(200)}`); } };
      const { actor, socket, open } = setup({ protocol: exploding });
      open();
      expect(deliverMessage(actor, out('x'))).to.equal('invalid');
      expect(actor.getSnapshot().value).to.equal('closing');
      const [code, reason] = socket.closedWith!;
      expect(code).to.equal(CloseCode.INTERNAL_ERROR);
      expect(reason.startsWith('internal error: boom é')).to.equal(true);
      // A close frame carries at most 123 bytes of reason (ws throws past it).
      expect(Buffer.byteLength(reason)).to.be.at.most(123);
    });

    it('writes the farewell frames before closing when the session ended', () => {
      const farewell: WireProtocol = { ...rawProtocol, farewell: () => ['bye'] };
      const { actor, socket, open } = setup({ protocol: farewell });
      open();
      actor.send({ type: 'conn.close', code: CloseCode.SESSION_ENDED, reason: 'session ended', farewell: 'session-ended' });
      expect(socket.sent).to.deep.equal(['bye']);
      expect(socket.closedWith).to.deep.equal([4401, 'session ended']);
    });

    it('drops a peer that does not finish the closing handshake within pingTimeout', () => {
      const { actor, socket, clock, open } = setup();
      open();
      actor.send({ type: 'conn.close', code: 1001, reason: 'node shutting down' });
      clock.increment(500);
      expect(socket.terminated).to.equal(true);
      expect(actor.getSnapshot().output).to.include({ code: 1001, by: 'server' });
    });
  });

  describe('inbound frames', () => {
    it('hands text frames to the node', () => {
      const { actor, calls, open } = setup();
      open();
      actor.send({ type: 'ws.message', data: Buffer.from('hi'), isBinary: false });
      expect(calls.inbound).to.deep.equal(['hi']);
      expect(actor.getSnapshot().context.stats.received).to.equal(1);
    });

    it('closes with 1003 on a binary frame (raw protocol)', () => {
      const { actor, socket, calls, open } = setup();
      open();
      actor.send({ type: 'ws.message', data: Buffer.from([1, 2]), isBinary: true });
      expect(socket.closedWith?.[0]).to.equal(CloseCode.UNSUPPORTED_DATA);
      expect(calls.inbound).to.deep.equal([]);
    });

    it('remembers the close code ws sent after a protocol error', () => {
      const { actor, open } = setup();
      open();
      actor.send({ type: 'ws.error', error: Object.assign(new Error('Max payload size exceeded'), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' }) });
      actor.send({ type: 'ws.closed', code: 1006, reason: '' });
      expect(actor.getSnapshot().output).to.include({ code: CloseCode.MESSAGE_TOO_BIG });
    });
  });

  describe('a socket with a stream (history on)', () => {
    it('begins it in `recovering`, holds live messages there, and goes `open` on stream.opened', () => {
      const { actor, socket, calls } = setup({}, { since: '1.abc', awaitConnect: false });
      actor.send({ type: 'handshake.accepted', identity: { contextId: 1, userId: 3, sessionId: 's' } });
      // Admitted, not open yet: held, not dropped.
      expect(deliverMessage(actor, out('early'))).to.equal('held');
      actor.send({ type: 'ws.opened', socket: socket as unknown as WebSocket });
      expect(actor.getSnapshot().value).to.deep.equal({ recovering: 'idle' });
      expect(calls.recovers).to.deep.equal([{ since: '1.abc' }]);
      expect(deliverMessage(actor, out('later'))).to.equal('held');
      expect(socket.sent).to.deep.equal([]);
      actor.send({ type: 'stream.opened' });
      expect(actor.getSnapshot().value).to.deep.equal({ open: 'idle' });
      expect(deliverMessage(actor, out('live'))).to.equal('written');
    });

    it('keeps pinging while it waits for a Socket.IO CONNECT, and closes with 1008 after 45 s without one', () => {
      const { actor, socket, clock, calls } = setup({}, { awaitConnect: true });
      actor.send({ type: 'handshake.accepted', identity: { contextId: 1, userId: 3, sessionId: 's' } });
      actor.send({ type: 'ws.opened', socket: socket as unknown as WebSocket });
      expect(calls.recovers).to.deep.equal([]);
      for (let t = 0; t < 44; t++) {
        clock.increment(1000);
        actor.send({ type: 'peer.alive' });
      }
      expect(socket.pings).to.be.above(20);
      expect(actor.getSnapshot().value).to.deep.include({ recovering: 'idle' });
      clock.increment(1000);
      expect(socket.closedWith).to.deep.equal([CloseCode.POLICY_VIOLATION, 'stream did not begin in time']);
      expect(actor.getSnapshot().value).to.equal('closing');
    });

    it('drops a peer that stops answering while it recovers, like an open one', () => {
      const { actor, socket, clock } = setup({}, { awaitConnect: true });
      actor.send({ type: 'handshake.accepted', identity: { contextId: 1, userId: 3, sessionId: 's' } });
      actor.send({ type: 'ws.opened', socket: socket as unknown as WebSocket });
      clock.increment(1000);
      clock.increment(500);
      expect(socket.terminated).to.equal(true);
      expect(actor.getSnapshot().value).to.equal('closed');
    });
  });
});
