/**
 * The inspector hub with real actors of the real machines: connection actors over
 * a recording socket (as in spec/actors/connection.machine.spec.ts), the node
 * supervisor with its buffer and ticker. Time is simulated: a SimulatedClock for the
 * machines' delays, FakeTimers for the hub's batching and the buffer's ticker.
 */
import { expect } from 'chai';
import { CoalescingQueue } from '../../src/cluster/coalesce.ts';
import { createActor, setup, SimulatedClock } from 'xstate';
import type { WebSocket } from 'ws';
import { createConnectionActor, type ConnectionActor } from '../../src/actors/connection.machine.ts';
import { deliverMessage } from '../../src/actors/connection-delivery.ts';
import { createNodeSupervisor } from '../../src/actors/node.actor.ts';
import { singleNode } from '../../src/delivery/remote.ts';
import { SocketIndex } from '../../src/delivery/socket-index.ts';
import { CloseCode } from '../../src/errors.ts';
import { InspectorHub, type InspectorBatch, type InspectorOptions } from '../../src/inspect/hub.ts';
import { inState, stateKey } from '../../src/inspect/state-key.ts';
import { rawProtocol } from '../../src/protocol/raw.ts';
import { FakeTimers } from '../../src/time/timers.ts';

const out = (message: string) => ({ id: 'm', message, contextId: 1, userId: 3, pathFilter: null });

class RecordingSocket {
  sent: string[] = [];
  bufferedAmount = 0;
  closedWith: [number, string] | undefined;
  send(frame: string) {
    this.sent.push(frame);
  }
  ping() {}
  close(code: number, reason: string) {
    this.closedWith = [code, reason];
  }
  terminate() {}
}

function setupHub(options: Partial<InspectorOptions> = {}) {
  const timers = new FakeTimers();
  const hub = new InspectorHub({ timers, ...options });
  const batches: InspectorBatch[] = [];
  const clock = new SimulatedClock();
  const connect = (connectionId: string): ConnectionActor =>
    createConnectionActor(
      {
        connectionId,
        path: '/ws/demo',
        remoteAddress: '127.0.0.1',
        protocol: rawProtocol.name,
        settings: { pingInterval: 1000, pingTimeout: 500, maxBufferedBytes: 100 },
      },
      {
        protocol: rawProtocol,
        hooks: { inbound: () => {}, slowConsumer: () => {}, recover: () => {} },
        now: () => clock.now(),
        random: () => 0.5, // no ping jitter: the pingInterval below is exact
      },
      { inspect: hub.observer, clock },
    ).start();
  const open = (actor: ConnectionActor, sessionId = 'session-1') => {
    actor.send({ type: 'handshake.accepted', identity: { contextId: 1, userId: 3, sessionId } });
    actor.send({ type: 'ws.opened', socket: new RecordingSocket() as unknown as WebSocket });
  };
  const close = (actor: ConnectionActor) => {
    actor.send({ type: 'conn.close', code: CloseCode.GOING_AWAY, reason: 'bye' });
    actor.send({ type: 'ws.closed', code: CloseCode.GOING_AWAY, reason: '' });
  };
  const watch = () => hub.subscribe((batch) => batches.push(batch));
  return { hub, timers, clock, batches, connect, open, close, watch };
}

describe('InspectorHub', () => {
  describe('#observer', () => {
    it('counts a connection actor in each state it passes through', () => {
      const { hub, clock, connect } = setupHub();
      const actor = connect('c1');
      expect(hub.counts().connection).to.deep.equal({ upgrade: 1 });
      actor.send({ type: 'handshake.accepted', identity: { contextId: 1, userId: 3, sessionId: 's' } });
      expect(hub.counts().connection).to.deep.equal({ upgrade: 0, authenticated: 1 });
      actor.send({ type: 'ws.opened', socket: new RecordingSocket() as unknown as WebSocket });
      expect(hub.counts().connection).to.include({ authenticated: 0, 'open.idle': 1 });
      clock.increment(1000); // pingInterval: the probe starts
      expect(hub.counts().connection).to.include({ 'open.idle': 0, 'open.probing': 1 });
      actor.send({ type: 'peer.alive' });
      expect(hub.counts().connection).to.include({ 'open.idle': 1, 'open.probing': 0 });
      expect(hub.size).to.equal(1);
    });

    it('drops an actor that reached closed, and counts it as ended', () => {
      const { hub, connect, open, close } = setupHub();
      const actor = connect('c1');
      open(actor);
      close(actor);
      expect(actor.getSnapshot().status).to.equal('done');
      expect(hub.size).to.equal(0);
      expect(Object.values(hub.counts().connection).every((n) => n === 0)).to.equal(true);
      expect(hub.snapshot().totals.connection).to.deep.equal({ live: 0, created: 1, ended: 1 });
    });

    it('drops an actor whose handshake was rejected (upgrade -> closed)', () => {
      const { hub, connect } = setupHub();
      connect('c1').send({ type: 'handshake.rejected', code: 'ERR_SESSION_UNKNOWN' });
      expect(hub.size).to.equal(0);
      expect(hub.counts().connection).to.deep.equal({ upgrade: 0 });
    });

    it('tracks the node supervisor, its buffer and the ticker, with their system ids, until the node stops', () => {
      const hub = new InspectorHub({ timers: new FakeTimers() });
      const timers = new FakeTimers();
      const node = createNodeSupervisor({
        index: new SocketIndex(),
        remote: singleNode,
        maxSocketsPerUser: 10,
        shutdownTimeout: 1000,
        drainDuration: 0,
        timers,
        buffer: { queue: new CoalescingQueue(), settings: { delayDuration: 1000, maxDelayDuration: 3000, timerFrequency: 500 }, timers, flush: () => {} },
        inspect: hub.observer,
      }).start();
      expect(hub.counts()).to.deep.include({ node: { running: 1 }, buffer: { idle: 1 } });
      const systemIds = hub.sample({ limit: 10 }).actors.map((a) => [a.machine, a.systemId]);
      expect(systemIds).to.deep.include.members([['node', 'node'], ['buffer', 'buffer']]);

      node.system.get('buffer')!.send({ type: 'buffer.enqueue', arrival: { contextId: 1, userId: 3, pathFilter: null, message: 'm' } });
      expect(hub.counts()).to.deep.include({ buffer: { idle: 0, waiting: 1 }, ticker: { active: 1 } });
      timers.advance(1000); // due: flushed, the ticker stops
      expect(hub.counts()).to.deep.include({ buffer: { idle: 1, waiting: 0 }, ticker: { active: 0 } });

      node.send({ type: 'node.drain' }); // no sockets: stopped at once
      expect(node.getSnapshot().status).to.equal('done');
      expect(hub.size).to.equal(0);
    });

    it('does not keep an actor created and never started', () => {
      const { hub } = setupHub();
      createConnectionActor({} as never, {} as never, { inspect: hub.observer });
      expect(hub.size).to.equal(0);
      expect(hub.snapshot().totals.connection).to.deep.equal({ live: 0, created: 1, ended: 0 });
    });

    it('drops a root actor that failed in an action: on the next event sent to it, or on sweep()', () => {
      const { hub } = setupHub();
      const fragile = setup({ actions: { explode: () => { throw new Error('boom'); } } }).createMachine({
        id: 'fragile',
        initial: 'calm',
        states: { calm: { on: { boom: { actions: 'explode' } } } },
      });
      const start = () => {
        const actor = createActor(fragile, { inspect: hub.observer });
        actor.subscribe({ error: () => {} }); // the failure is expected: not an unhandled error
        return actor.start();
      };
      const first = start();
      const second = start();
      first.send({ type: 'boom' });
      second.send({ type: 'boom' });
      expect(first.getSnapshot().status).to.equal('error');
      expect(hub.counts().fragile).to.deep.equal({ calm: 2 }); // xstate emitted no snapshot for the failure
      first.send({ type: 'again' });
      expect(hub.counts().fragile).to.deep.equal({ calm: 1 });
      expect(hub.sweep()).to.equal(1);
      expect(hub.size).to.equal(0);
    });
  });

  describe('#subscribe', () => {
    it('sends at most one batch per interval, with the latest state of each actor that changed', () => {
      const { hub, timers, batches, connect, open, watch } = setupHub({ interval: 100 });
      watch();
      const actors = ['a', 'b', 'c'].map(connect);
      actors.forEach((actor) => open(actor));
      timers.advance(99);
      expect(batches).to.have.length(0);
      timers.advance(1);
      expect(batches).to.have.length(1);
      const [batch] = batches;
      expect(batch.changes.map((c) => [c.machine, c.state, c.status])).to.deep.equal([
        ['connection', 'open.idle', 'active'],
        ['connection', 'open.idle', 'active'],
        ['connection', 'open.idle', 'active'],
      ]);
      expect(batch.changes[0].label).to.equal('user 1/3 /ws/demo');
      expect(batch.counts.connection).to.include({ upgrade: 0, authenticated: 0, 'open.idle': 3 });
      expect(batch.omitted).to.equal(0);

      actors[0].send({ type: 'conn.close', code: 1000, reason: '' });
      timers.advance(100);
      expect(batches).to.have.length(2);
      expect(batches[1].changes.map((c) => [c.id, c.state])).to.deep.equal([[actors[0].sessionId, 'closing']]);
      expect(hub.snapshot().seq).to.be.greaterThan(batches[1].seq);
    });

    it('announces an actor that reached closed in the next batch, then forgets it', () => {
      const { hub, timers, batches, connect, open, close, watch } = setupHub();
      const actor = connect('c1');
      open(actor);
      watch();
      close(actor);
      timers.advance(100);
      expect(batches).to.have.length(1);
      expect(batches[0].changes).to.deep.equal([]);
      expect(batches[0].left).to.deep.equal([{ id: actor.sessionId, machine: 'connection', state: 'closed', status: 'done' }]);
      expect(hub.describe(actor.sessionId)).to.equal(undefined);
    });

    it('builds no batch and arms no timer while nobody watches, and stops when the last watcher leaves', () => {
      const { hub, timers, batches, connect, open, watch } = setupHub();
      open(connect('c1'));
      expect(timers.pendingCount()).to.equal(0);
      expect(hub.counts().connection['open.idle']).to.equal(1);
      const stop = watch();
      open(connect('c2'));
      expect(timers.pendingCount()).to.equal(1);
      stop();
      expect(timers.pendingCount()).to.equal(0);
      open(connect('c3'));
      timers.advance(1000);
      expect(timers.pendingCount()).to.equal(0);
      expect(batches).to.deep.equal([]);
    });

    it('caps a batch and says how many changes it left out; the counts stay exact', () => {
      const { timers, batches, connect, watch } = setupHub({ maxChangesPerBatch: 2 });
      watch();
      for (const id of ['a', 'b', 'c', 'd', 'e']) connect(id);
      timers.advance(100);
      expect(batches[0].changes).to.have.length(2);
      expect(batches[0].omitted).to.equal(3);
      expect(batches[0].counts.connection).to.deep.equal({ upgrade: 5 });
    });
  });

  describe('#observerWith', () => {
    it('passes every inspection event on to another observer as well', () => {
      const hub = new InspectorHub({ timers: new FakeTimers() });
      const seen: string[] = [];
      const actor = createConnectionActor({} as never, {} as never, { inspect: hub.observerWith({ next: (event) => seen.push(event.type) }) });
      expect(seen).to.deep.equal(['@xstate.actor']);
      expect(hub.snapshot().totals.connection.created).to.equal(1);
      expect(hub.observerWith(undefined)).to.equal(hub.observer);
      void actor;
    });
  });

  describe('#describe', () => {
    it('summarises a connection without its socket, secrets or session id', () => {
      const { hub, connect, open } = setupHub();
      const actor = connect('c1');
      open(actor, 'the-session-id');
      deliverMessage(actor, out('hello'));
      actor.send({ type: 'peer.alive' });
      const detail = hub.describe(actor.sessionId)!;
      expect(detail).to.include({ id: actor.sessionId, machine: 'connection', state: 'open.idle', status: 'active', lastEvent: 'peer.alive' });
      expect(detail.context).to.include({ connectionId: 'c1', path: '/ws/demo', protocol: 'raw', sent: 1 });
      expect(detail.context.user).to.deep.equal({ contextId: 1, userId: 3 });
      expect(detail.context).to.not.have.any.keys('socket', 'hooks', 'identity', 'now');
      expect(JSON.stringify(detail)).to.not.contain('the-session-id');
    });

    it('answers undefined for an actor it does not know', () => {
      expect(setupHub().hub.describe('x:999999')).to.equal(undefined);
    });

    it('lists its transitions with time, event type, from and to, from its start', () => {
      const { hub, timers, clock, connect, open } = setupHub();
      const actor = connect('c1');
      timers.advance(5);
      open(actor);
      clock.increment(1000); // pingInterval: the probe starts
      actor.send({ type: 'peer.alive' });
      const { transitions } = hub.describe(actor.sessionId)!;
      expect(transitions.map(({ event, from, to }) => [event, from, to])).to.deep.equal([
        ['xstate.init', null, 'upgrade'],
        ['handshake.accepted', 'upgrade', 'authenticated'],
        ['ws.opened', 'authenticated', 'open.idle'],
        ['xstate.after.pingInterval.connection.open.idle', 'open.idle', 'open.probing'],
        ['peer.alive', 'open.probing', 'open.idle'],
      ]);
      expect(transitions[0].at).to.equal(0);
      expect(transitions[1].at).to.equal(5);
    });

    it('keeps no event payload: a delivered message, the session id and the socket stay out', () => {
      const { hub, connect, open } = setupHub();
      const actor = connect('c1');
      open(actor, 'the-session-id');
      deliverMessage(actor, out('the-pushed-marker'));
      actor.send({ type: 'conn.close', code: 1000, reason: 'bye' });
      const detail = hub.describe(actor.sessionId)!;
      expect(detail.transitions.at(-1)).to.include({ event: 'conn.close', from: 'open.idle', to: 'closing' });
      const text = JSON.stringify(detail);
      for (const secret of ['the-session-id', 'the-pushed-marker']) expect(text).to.not.contain(secret);
    });

    it('keeps the last 50 transitions of a long-lived actor', () => {
      const { hub, clock, connect, open } = setupHub();
      const actor = connect('c1');
      open(actor);
      for (let i = 0; i < 40; i++) {
        clock.increment(1000);
        actor.send({ type: 'peer.alive' });
      }
      const { transitions } = hub.describe(actor.sessionId)!;
      expect(transitions).to.have.length(50);
      expect(transitions.at(-1)).to.include({ event: 'peer.alive', to: 'open.idle' });
      expect(transitions.some((t) => t.event === 'xstate.init')).to.equal(false);
    });
  });

  describe('#sample', () => {
    it('lists the actors of a state and of its substates, up to the limit, and how many match', () => {
      const { hub, connect, open } = setupHub();
      for (const id of ['a', 'b', 'c']) open(connect(id));
      connect('d');
      const open_ = hub.sample({ machine: 'connection', state: 'open', limit: 2 });
      expect(open_.matching).to.equal(3);
      expect(open_.actors.map((a) => a.state)).to.deep.equal(['open.idle', 'open.idle']);
      expect(hub.sample({ machine: 'connection', state: 'upgrade', limit: 10 }).actors.map((a) => a.label)).to.deep.equal(['/ws/demo from 127.0.0.1']);
      expect(hub.sample({ machine: 'connection', state: 'ope', limit: 10 }).matching).to.equal(0);
      expect(hub.sample({ machine: 'node', limit: 10 }).matching).to.equal(0);
    });

    it('lists at most perState actors of each state, so a crowded state leaves room for the others', () => {
      const { hub, connect, open } = setupHub();
      for (const id of ['a', 'b', 'c', 'd']) open(connect(id));
      connect('e');
      connect('f');
      const { matching, actors } = hub.sample({ machine: 'connection', limit: 100, perState: 1 });
      expect(matching).to.equal(6);
      expect(actors.map((a) => a.state)).to.deep.equal(['upgrade', 'open.idle']);
      expect(hub.sample({ machine: 'connection', limit: 3, perState: 2 }).actors.map((a) => a.state)).to.deep.equal(['upgrade', 'upgrade', 'open.idle']);
    });

    it('carries the seq of the last batch it includes, so a watcher can order it against the stream', () => {
      const { hub, timers, batches, connect, open, watch } = setupHub({ interval: 100 });
      watch();
      const actor = connect('a');
      open(actor);
      timers.advance(100);
      const before = hub.sample({ machine: 'connection', limit: 10 });
      expect(before.seq).to.equal(batches[0].seq);
      expect(before.actors.map((a) => a.state)).to.deep.equal(['open.idle']);

      // Changed after the sample: announced in a batch with a larger seq.
      actor.send({ type: 'conn.close', code: 1000, reason: '' });
      const pending = hub.sample({ machine: 'connection', limit: 10 });
      expect(pending.seq).to.equal(before.seq);
      expect(pending.actors.map((a) => a.state)).to.deep.equal(['closing']);
      timers.advance(100);
      expect(batches[1].seq).to.be.greaterThan(pending.seq);
      expect(hub.describe(actor.sessionId)?.seq).to.equal(batches[1].seq);
    });
  });
});

describe('InspectorHub, actors followed on demand', () => {
  /** Every actor a test made: stopped after it, so no ping timer (real time here) outlives the suite. */
  const made: ConnectionActor[] = [];
  afterEach(() => made.splice(0).forEach((actor) => actor.stop()));

  /** Connection actors with no observer, as the node makes them, reported through a source. */
  function onDemand(idleMs = 1000) {
    const timers = new FakeTimers();
    const hub = new InspectorHub({ timers, idleMs });
    const live = new Set<ConnectionActor>();
    hub.followOnDemand({ machine: 'connection', live: () => live });
    const connect = (connectionId: string) => {
      const actor = createConnectionActor(
        { connectionId, path: '/ws/demo', remoteAddress: '127.0.0.1', protocol: rawProtocol.name, settings: { pingInterval: 60_000, pingTimeout: 500, maxBufferedBytes: 1 << 20 } },
        { protocol: rawProtocol, hooks: { inbound: () => {}, slowConsumer: () => {}, recover: () => {} } },
      ).start();
      live.add(actor);
      made.push(actor);
      hub.spawned(actor);
      actor.subscribe({ complete: () => (live.delete(actor), hub.ended(actor)) });
      return actor;
    };
    const open = (actor: ConnectionActor) => {
      actor.send({ type: 'handshake.accepted', identity: { contextId: 1, userId: 3, sessionId: 's' } });
      actor.send({ type: 'ws.opened', socket: new RecordingSocket() as unknown as WebSocket });
    };
    return { hub, timers, live, connect, open };
  }

  it('tracks nothing while nobody looks, but counts every actor created and ended', () => {
    const { hub, connect, open } = onDemand();
    const a = connect('a');
    open(a);
    for (let i = 0; i < 100; i++) a.send({ type: 'peer.alive' });
    const b = connect('b');
    b.send({ type: 'handshake.rejected', code: 'ERR_SESSION_UNKNOWN' });
    expect(hub.size).to.equal(0);
    expect(hub.followingOnDemand).to.equal(false);
    const { totals, counts } = hub.snapshot(); // the first look
    expect(totals.connection).to.deep.equal({ live: 1, created: 2, ended: 1 });
    expect(counts.connection).to.deep.equal({ 'open.idle': 1 });
  });

  it('follows every live actor from the first look: later transitions and ends are seen, each end counted once', () => {
    const { hub, connect, open } = onDemand();
    const a = connect('a');
    const b = connect('b');
    open(a);
    expect(hub.counts().connection).to.deep.equal({ upgrade: 1, 'open.idle': 1 });
    open(b);
    expect(hub.counts().connection).to.deep.equal({ upgrade: 0, authenticated: 0, 'open.idle': 2 });
    const c = connect('c'); // spawned while followed: tracked at once
    expect(hub.counts().connection).to.include({ upgrade: 1 });
    a.send({ type: 'conn.close', code: CloseCode.GOING_AWAY, reason: 'bye' });
    a.send({ type: 'ws.closed', code: CloseCode.GOING_AWAY, reason: '' });
    expect(hub.counts().connection).to.deep.equal({ upgrade: 1, authenticated: 0, 'open.idle': 1, closing: 0 });
    expect(hub.snapshot().totals.connection).to.deep.equal({ live: 2, created: 3, ended: 1 });
    expect(hub.describe(c.sessionId)).to.include({ state: 'upgrade', machine: 'connection' });
  });

  it('sends watchers the changes of followed actors, with the end in its final state', () => {
    const { hub, timers, connect, open } = onDemand();
    const batches: InspectorBatch[] = [];
    const a = connect('a');
    const stop = hub.subscribe((batch) => batches.push(batch));
    open(a);
    timers.advance(100);
    expect(batches.at(-1)!.changes.map((c) => c.state)).to.deep.equal(['open.idle']);
    a.send({ type: 'conn.close', code: CloseCode.GOING_AWAY, reason: 'bye' });
    a.send({ type: 'ws.closed', code: CloseCode.GOING_AWAY, reason: '' });
    timers.advance(100);
    expect(batches.at(-1)!.left).to.deep.equal([{ id: a.sessionId, machine: 'connection', state: 'closed', status: 'done' }]);
    stop();
  });

  it('records transitions only while it follows: from the moment it was followed (or its start), none after it let go', () => {
    const { hub, timers, connect, open } = onDemand(1000);
    const a = connect('a');
    a.send({ type: 'handshake.accepted', identity: { contextId: 1, userId: 3, sessionId: 's' } });
    expect(hub.describe(a.sessionId)!.transitions).to.deep.equal([]); // followed in authenticated: nothing before
    a.send({ type: 'ws.opened', socket: new RecordingSocket() as unknown as WebSocket });
    expect(hub.describe(a.sessionId)!.transitions.map((t) => [t.event, t.from, t.to])).to.deep.equal([['ws.opened', 'authenticated', 'open.idle']]);
    const c = connect('c'); // started while followed: from its start
    c.send({ type: 'handshake.accepted', identity: { contextId: 1, userId: 3, sessionId: 's' } });
    expect(hub.describe(c.sessionId)!.transitions.map((t) => [t.event, t.from, t.to])).to.deep.equal([
      ['xstate.init', null, 'upgrade'],
      ['handshake.accepted', 'upgrade', 'authenticated'],
    ]);
    timers.advance(1000); // let go
    const b = connect('b');
    open(b); // not followed: nothing recorded, nothing kept
    expect(hub.size).to.equal(0);
    expect(hub.describe(b.sessionId)!.transitions).to.deep.equal([]); // followed again, from now
  });

  it('lets go idleMs after the last look (no watcher), and follows again on the next look', () => {
    const { hub, timers, connect, open } = onDemand(1000);
    const a = connect('a');
    hub.counts();
    expect(hub.size).to.equal(1);
    timers.advance(999);
    expect(hub.followingOnDemand).to.equal(true);
    timers.advance(1);
    expect(hub.followingOnDemand).to.equal(false);
    expect(hub.size).to.equal(0);
    open(a); // not seen: nobody follows
    expect(hub.size).to.equal(0);
    expect(hub.counts().connection).to.deep.equal({ upgrade: 0, 'open.idle': 1 });
    expect(timers.pendingCount()).to.equal(1); // only the idle clock
    hub.stop();
    expect(timers.pendingCount()).to.equal(0);
    expect(hub.size).to.equal(0);
  });

  it('keeps following while a watcher is subscribed, however long, and starts the idle clock when it leaves', () => {
    const { hub, timers, connect } = onDemand(1000);
    connect('a');
    const stop = hub.subscribe(() => {});
    timers.advance(10_000);
    expect(hub.followingOnDemand).to.equal(true);
    stop();
    timers.advance(1000);
    expect(hub.followingOnDemand).to.equal(false);
  });
});

describe('inspect/hub state keys', () => {
  for (const [value, key] of [
    ['idle', 'idle'],
    [{ open: 'idle' }, 'open.idle'],
    [{ a: { b: 'c' } }, 'a.b.c'],
    [{ left: 'x', right: { y: 'z' } }, 'left.x, right.y.z'],
    [{ region: {} }, 'region'],
    [undefined, 'active'],
  ] as const) {
    it(`keys ${JSON.stringify(value)} as ${JSON.stringify(key)}`, () => expect(stateKey(value)).to.equal(key));
  }

  it('matches a state and its substates, and the leaves of a parallel key', () => {
    expect(inState('open.idle', 'open')).to.equal(true);
    expect(inState('open', 'open')).to.equal(true);
    expect(inState('opening', 'open')).to.equal(false);
    expect(inState('left.x, right.y.z', 'right.y')).to.equal(true);
    expect(inState('left.x, right.y.z', 'right.z')).to.equal(false);
  });
});
