/**
 * The hot paths as numbers a test asserts (not timings): actor events per delivered
 * message and per handshake, counted by an inspection observer on a real node with
 * real sockets. A change that adds an event to either path (a raise per delivery, a
 * round trip through the supervisor per frame) fails here before any bench shows it.
 * bench/local-fanout measures what the events cost; this keeps their number.
 */
import { expect } from 'chai';
import type { InspectionEvent } from 'xstate';
import { machineOf } from '../../src/inspect/state-key.ts';
import { login, openSocket, push, type TestSocket } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';

const SOCKETS = 10;
const MESSAGES = 50;

/** `@xstate.event`s taken per machine, by event type. */
class EventCounter {
  readonly byMachine = new Map<string, Map<string, number>>();
  readonly observer = (event: InspectionEvent) => {
    if (event.type !== '@xstate.event') return;
    const machine = machineOf(event.actorRef as never);
    let types = this.byMachine.get(machine);
    if (!types) this.byMachine.set(machine, (types = new Map()));
    types.set(event.event.type, (types.get(event.event.type) ?? 0) + 1);
  };

  total(machine: string): number {
    let sum = 0;
    for (const n of this.byMachine.get(machine)?.values() ?? []) sum += n;
    return sum;
  }

  reset(): void {
    this.byMachine.clear();
  }

  describe(machine: string): string {
    return JSON.stringify(Object.fromEntries(this.byMachine.get(machine) ?? []));
  }
}

describe('hot path budgets (events per message and per handshake)', () => {
  let node: TestNode;
  const counter = new EventCounter();
  const sockets: TestSocket[] = [];

  before(async () => {
    node = await startNode(['--websockets.maxSocketsPerUser', String(SOCKETS)], { inspect: counter.observer });
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    await node?.stop();
  });

  it(`takes 3 connection events and no supervisor event per handshake (${SOCKETS} handshakes)`, async () => {
    const alice = await login(node.url);
    counter.reset();
    for (let i = 0; i < SOCKETS; i++) sockets.push(await openSocket(node.wsUrl, alice, '/ws/demo', { connection: `hot-${i}` }));
    const perHandshake = { connection: counter.total('connection') / SOCKETS, node: counter.total('node') / SOCKETS };
    process.stdout.write(`      per handshake: connection ${counter.describe('connection')}, node ${counter.describe('node')}\n`);
    // xstate.init + handshake.accepted + ws.opened; the supervisor spawns and admits by calls (node.actor.ts).
    expect(perHandshake).to.deep.equal({ connection: 3, node: 0 });
  });

  it(`takes no actor event per delivered frame (${MESSAGES} pushes to ${SOCKETS} sockets)`, async () => {
    const alice = await login(node.url);
    counter.reset();
    for (let i = 0; i < MESSAGES; i++) {
      const answer = await push(node.url, { contextId: alice.contextId, userId: alice.userId, message: `m${i}` });
      expect(answer.body.local).to.equal(SOCKETS);
    }
    await Promise.all(sockets.map((socket) => socket.nextFrames(MESSAGES)));
    const frames = SOCKETS * MESSAGES;
    process.stdout.write(`      ${frames} frames: connection ${counter.describe('connection')}, node ${counter.describe('node')}, buffer ${counter.describe('buffer')}\n`);
    // A frame changes no connection's state: it is written through the open actor's
    // ports (actors/connection-delivery.ts), and a local push takes no supervisor or
    // buffer event either. Every frame still arrived (above).
    expect(counter.total('connection')).to.equal(0);
    expect(counter.total('node') + counter.total('buffer')).to.equal(0);
  });
});

describe('the inspector while nobody looks', () => {
  let node: TestNode;
  const sockets: TestSocket[] = [];

  before(async () => {
    node = await startNode();
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    await node?.stop();
  });

  it('follows no connection actor until somebody looks, then every live one in its current state', async () => {
    const alice = await login(node.url);
    for (let i = 0; i < 3; i++) sockets.push(await openSocket(node.wsUrl, alice, '/ws/demo', { connection: `idle-${i}` }));
    await push(node.url, { contextId: alice.contextId, userId: alice.userId, message: 'hello' });
    await Promise.all(sockets.map((socket) => socket.nextFrames(1)));
    const hub = node.node.inspector;
    expect(hub.followingOnDemand).to.equal(false);
    const before = hub.size; // the node, its buffer, ticker...: no connection
    const counts = hub.counts(); // a look: follows every live connection at once
    expect(hub.followingOnDemand).to.equal(true);
    expect(counts.connection).to.include({ 'open.idle': 3 });
    expect(hub.size).to.equal(before + 3);
    expect(hub.snapshot().totals.connection).to.include({ live: 3, created: 3, ended: 0 });
  });
});
