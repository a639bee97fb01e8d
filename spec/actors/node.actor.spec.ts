/**
 * The node supervisor as the upgrade pipeline uses it (NodeSupervisor): spawn and
 * admit by calls, refused once the node drains, and a failing connection that costs
 * only its own socket. Fake timers and a recording socket (units below the socket).
 */
import { expect } from 'chai';
import type { InspectionEvent } from 'xstate';
import type { WebSocket } from 'ws';
import { CoalescingQueue } from '../../src/cluster/coalesce.ts';
import { createNodeSupervisor, NodeSupervisor } from '../../src/actors/node.actor.ts';
import type { NodeInput } from '../../src/actors/node.machine.ts';
import type { ConnectionInput } from '../../src/actors/connection.machine.ts';
import { singleNode } from '../../src/delivery/remote.ts';
import { SocketIndex } from '../../src/delivery/socket-index.ts';
import { rawProtocol } from '../../src/protocol/raw.ts';
import type { WireProtocol } from '../../src/protocol/wire-protocol.ts';
import { FakeTimers } from '../../src/time/timers.ts';

class RecordingSocket {
  terminated = false;
  send() {}
  terminate() {
    this.terminated = true;
  }
}

const HOOKS = { inbound: () => {}, slowConsumer: () => {}, recover: () => {} };

function input(connectionId: string, protocol: WireProtocol = rawProtocol): ConnectionInput {
  return { connectionId, path: '/ws/x', remoteAddress: '127.0.0.1', protocol: protocol.name, settings: { pingInterval: 1000, pingTimeout: 1000, maxBufferedBytes: 100 } };
}

function admission(connectionId: string) {
  return { identity: { contextId: 1, userId: 3, sessionId: 's' }, connectionId, path: '/ws/x', prefix: '/ws', remoteAddress: '127.0.0.1' };
}

/** A started supervisor; `events` lists the event types the supervisor itself took. */
function setup(overrides: Partial<NodeInput> = {}) {
  const index = new SocketIndex();
  const timers = new FakeTimers();
  const events: string[] = [];
  let root: unknown;
  const supervisor = createNodeSupervisor({
    index,
    remote: singleNode,
    maxSocketsPerUser: 8,
    shutdownTimeout: 1000,
    drainDuration: 1000,
    timers,
    buffer: { queue: new CoalescingQueue(), settings: { delayDuration: 1000, maxDelayDuration: 3000, timerFrequency: 500 }, timers, flush: () => {} },
    inspect: (event: InspectionEvent) => {
      if (event.type === '@xstate.event' && event.actorRef === root) events.push(event.event.type);
    },
    ...overrides,
  });
  root = supervisor;
  supervisor.start();
  events.length = 0; // its xstate.init
  return { supervisor, node: new NodeSupervisor(supervisor), index, events };
}

describe('NodeSupervisor', () => {
  describe('#spawn and #admit', () => {
    it('spawn and admit without a supervisor event while running, and refuse both once draining', () => {
      const { supervisor, node, index, events } = setup({ maxSocketsPerUser: 1, drainDuration: 0 });
      const ports = { protocol: rawProtocol, hooks: HOOKS };
      const first = node.spawn(input('c1'), ports)!;
      expect(node.admit(first, admission('c1'))).to.equal(undefined);
      expect(first.getSnapshot().value).to.equal('authenticated');
      expect(index.size).to.equal(1);
      // The same id, and the per-user limit (1): refused in the same synchronous step.
      const second = node.spawn(input('c1'), ports)!;
      expect(node.admit(second, admission('c1'))).to.equal('ERR_CONNECTION_ID_IN_USE');
      expect(node.admit(second, admission('c2'))).to.equal('ERR_TOO_MANY_SOCKETS');
      expect(events).to.deep.equal([]);
      supervisor.send({ type: 'node.drain' });
      expect(supervisor.getSnapshot().matches('draining')).to.equal(true);
      expect(events, "the observer sees the supervisor's events").to.deep.equal(['node.drain', 'drain.done']);
      expect(node.spawn(input('c3'), ports)).to.equal(undefined);
      expect(node.admit(second, admission('c3'))).to.equal('ERR_SHUTTING_DOWN');
      expect(index.size).to.equal(1);
      supervisor.stop();
    });
  });

  describe('a failing connection', () => {
    it('closes that socket and removes it from the index when an action throws, and keeps running', () => {
      const ended: Array<{ code: number; reason: string }> = [];
      const { supervisor, node, index } = setup({ onConnectionEnded: (output) => ended.push({ code: output.code, reason: output.reason }) });
      // A protocol whose decoder throws: the actor's `receive` action fails on the first frame.
      const exploding: WireProtocol = {
        ...rawProtocol,
        decode: () => {
          throw new Error('boom');
        },
      };
      const actor = node.spawn(input('c1', exploding), { protocol: exploding, hooks: HOOKS })!;
      expect(node.admit(actor, admission('c1'))).to.equal(undefined);
      const socket = new RecordingSocket();
      actor.send({ type: 'ws.opened', socket: socket as unknown as WebSocket });
      expect(index.size).to.equal(1);
      actor.send({ type: 'ws.message', data: Buffer.from('x'), isBinary: false });
      expect(actor.getSnapshot().status).to.equal('error');
      expect(socket.terminated).to.equal(true);
      expect(index.size).to.equal(0);
      expect(ended).to.deep.equal([{ code: 1011, reason: 'internal error: boom' }]);
      expect(supervisor.getSnapshot().value).to.equal('running');
      supervisor.stop();
    });
  });
});
