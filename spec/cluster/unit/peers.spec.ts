import { expect } from 'chai';
import { createActor } from 'xstate';
import { peerMachine } from '../../../src/actors/peer.machine.ts';
import type { PresencePayload } from '../../../src/cluster/codec.ts';
import { isNewerPresence, Peers } from '../../../src/cluster/peers.ts';
import { FakeTimers } from '../../../src/time/timers.ts';

const GRACE = 300;
const presence = (node: string, state: 'online' | 'offline', epoch = 'e1', n = 0): PresencePayload => ({ v: 1, node, epoch, route: `R-${node}`, state, since: 0, n });

function setup() {
  const timers = new FakeTimers();
  const verdicts: string[] = [];
  const applied: Array<PresencePayload | undefined> = [];
  const peers = new Peers({
    offlineGrace: GRACE,
    timers,
    verdicts: {
      online: (node, p) => {
        verdicts.push(`online ${node}`);
        applied.push(p);
      },
      offline: (node, p) => {
        verdicts.push(`offline ${node}`);
        applied.push(p);
      },
    },
  });
  return { timers, peers, verdicts, applied };
}

describe('Peers', () => {
  it('applies an online presence at once and starts the peer online', () => {
    const { peers, verdicts, applied } = setup();
    const p = presence('n2', 'online');
    peers.online('n2', p);
    expect(verdicts).to.deep.equal(['online n2']);
    expect(applied).to.deep.equal([p]);
    expect(peers.stateOf('n2')).to.equal('online');
  });

  it('has no state for a node never heard of', () => {
    const { peers } = setup();
    expect(peers.stateOf('n9')).to.equal(undefined);
  });

  it('holds an offline presence as suspect for the grace, then applies it (online -> suspect -> offline)', () => {
    const { peers, timers, verdicts, applied } = setup();
    peers.online('n2', presence('n2', 'online'));
    const goodbye = presence('n2', 'offline');
    peers.offline('n2', goodbye);
    expect(peers.stateOf('n2')).to.equal('suspect');
    expect(verdicts).to.deep.equal(['online n2']);
    timers.advance(GRACE - 1);
    expect(peers.stateOf('n2')).to.equal('suspect');
    expect(verdicts).to.deep.equal(['online n2']);
    timers.advance(1);
    expect(peers.stateOf('n2')).to.equal('offline');
    expect(verdicts).to.deep.equal(['online n2', 'offline n2']);
    expect(applied[1]).to.deep.equal(goodbye);
  });

  it('takes an offline back when an online comes within the grace: no offline verdict, ever', () => {
    const { peers, timers, verdicts } = setup();
    peers.online('n2', presence('n2', 'online'));
    peers.offline('n2', presence('n2', 'offline'));
    timers.advance(GRACE - 1);
    peers.online('n2', presence('n2', 'online', 'e2'));
    expect(peers.stateOf('n2')).to.equal('online');
    timers.advance(GRACE * 10);
    expect(verdicts).to.deep.equal(['online n2', 'online n2']);
    expect(timers.pendingCount()).to.equal(0);
  });

  it('takes an offline back when our own link drops within the grace (the broker leaving)', () => {
    const { peers, timers, verdicts } = setup();
    peers.online('n2', presence('n2', 'online'));
    peers.offline('n2', presence('n2', 'offline'));
    timers.advance(100);
    peers.linkLost();
    expect(peers.stateOf('n2')).to.equal('online');
    timers.advance(GRACE * 10);
    expect(verdicts).to.deep.equal(['online n2']);
  });

  it('does not take back an offline that already counted when the link drops later', () => {
    const { peers, timers, verdicts } = setup();
    peers.online('n2', presence('n2', 'online'));
    peers.offline('n2', presence('n2', 'offline'));
    timers.advance(GRACE);
    peers.linkLost();
    expect(peers.stateOf('n2')).to.equal('offline');
    expect(verdicts).to.deep.equal(['online n2', 'offline n2']);
  });

  it('ignores a link drop for peers that are online', () => {
    const { peers, timers } = setup();
    peers.online('n2', presence('n2', 'online'));
    peers.linkLost();
    expect(peers.stateOf('n2')).to.equal('online');
    expect(timers.pendingCount()).to.equal(0);
  });

  it('counts a second offline in the grace once, from the first (the grace is not restarted)', () => {
    const { peers, timers, verdicts } = setup();
    peers.online('n2', presence('n2', 'online'));
    peers.offline('n2', presence('n2', 'offline'));
    timers.advance(200);
    peers.offline('n2', presence('n2', 'offline'));
    timers.advance(100);
    expect(peers.stateOf('n2')).to.equal('offline');
    timers.advance(GRACE * 10);
    expect(verdicts).to.deep.equal(['online n2', 'offline n2']);
  });

  it('applies the last presence heard when the grace ends', () => {
    const { peers, timers, applied } = setup();
    peers.online('n2', presence('n2', 'online'));
    peers.offline('n2', presence('n2', 'offline', 'e1'));
    const last = { ...presence('n2', 'offline', 'e1'), since: 42 };
    peers.offline('n2', last);
    timers.advance(GRACE);
    expect(applied.at(-1)).to.deep.equal(last);
  });

  it('brings an offline peer back online at once on its next online presence', () => {
    const { peers, timers, verdicts } = setup();
    peers.online('n2', presence('n2', 'online'));
    peers.offline('n2', presence('n2', 'offline'));
    timers.advance(GRACE);
    peers.online('n2', presence('n2', 'online', 'e2'));
    expect(peers.stateOf('n2')).to.equal('online');
    expect(verdicts).to.deep.equal(['online n2', 'offline n2', 'online n2']);
  });

  it('applies the offline of a node never seen online at once (nothing to take back) and spawns no actor', () => {
    const { peers, timers, verdicts, applied } = setup();
    peers.offline('n3', presence('n3', 'offline'));
    expect(verdicts).to.deep.equal(['offline n3']);
    expect(applied).to.deep.equal([presence('n3', 'offline')]);
    expect(peers.stateOf('n3')).to.equal(undefined);
    expect(timers.pendingCount()).to.equal(0);
  });

  it('passes an offline without a presence (undefined) through as is', () => {
    const { peers, timers, applied } = setup();
    peers.offline('n3', undefined);
    expect(applied).to.deep.equal([undefined]);
    peers.online('n2', presence('n2', 'online'));
    peers.offline('n2', undefined);
    timers.advance(GRACE);
    expect(applied.at(-1)).to.equal(undefined);
    expect(applied).to.have.length(3);
  });

  it('keeps peers independent: one suspect does not affect another', () => {
    const { peers, timers, verdicts } = setup();
    peers.online('n2', presence('n2', 'online'));
    peers.online('n3', presence('n3', 'online'));
    peers.offline('n2', presence('n2', 'offline'));
    timers.advance(100);
    peers.offline('n3', presence('n3', 'offline'));
    timers.advance(200);
    expect([peers.stateOf('n2'), peers.stateOf('n3')]).to.deep.equal(['offline', 'suspect']);
    // n3 reconnected: its next connection's online.
    peers.online('n3', presence('n3', 'online', 'e1', 1));
    timers.advance(GRACE);
    expect(verdicts).to.deep.equal(['online n2', 'online n3', 'offline n2', 'online n3']);
  });

  it('stop() stops every actor: a pending grace never fires, states are gone', () => {
    const { peers, timers, verdicts } = setup();
    peers.online('n2', presence('n2', 'online'));
    peers.offline('n2', presence('n2', 'offline'));
    peers.stop();
    timers.advance(GRACE * 10);
    expect(verdicts).to.deep.equal(['online n2']);
    expect(peers.stateOf('n2')).to.equal(undefined);
  });
});

describe('peerMachine', () => {
  function start() {
    const timers = new FakeTimers();
    const effects: string[] = [];
    const logic = peerMachine.provide({ actions: { wentOnline: () => effects.push('online'), wentOffline: () => effects.push('offline') } });
    const clock = { setTimeout: (fn: () => void, ms: number) => timers.setTimeout(fn, ms), clearTimeout: (id: unknown) => timers.clearTimeout(id) };
    const actor = createActor(logic, { input: { node: 'n2', offlineGrace: GRACE }, clock: clock as never }).start();
    return { actor, timers, effects };
  }

  it('starts online with its input in the context and no downs', () => {
    const { actor } = start();
    expect(actor.getSnapshot().value).to.equal('online');
    expect(actor.getSnapshot().context).to.deep.equal({ node: 'n2', offlineGrace: GRACE, downs: 0 });
  });

  it('counts one down and runs wentOffline once per grace that ran out', () => {
    const { actor, timers, effects } = start();
    actor.send({ type: 'peer.offline' });
    timers.advance(GRACE);
    expect(actor.getSnapshot().value).to.equal('offline');
    expect(actor.getSnapshot().context.downs).to.equal(1);
    expect(effects).to.deep.equal(['offline']);
    actor.send({ type: 'peer.online' });
    expect(effects).to.deep.equal(['offline', 'online']);
    actor.send({ type: 'peer.offline' });
    timers.advance(GRACE);
    expect(actor.getSnapshot().context.downs).to.equal(2);
  });

  it('runs no effect and counts no down for an offline taken back (online or link.lost)', () => {
    const { actor, timers, effects } = start();
    actor.send({ type: 'peer.offline' });
    actor.send({ type: 'peer.online' });
    actor.send({ type: 'peer.offline' });
    actor.send({ type: 'link.lost' });
    timers.advance(GRACE * 10);
    expect(actor.getSnapshot().value).to.equal('online');
    expect(actor.getSnapshot().context.downs).to.equal(0);
    expect(effects).to.deep.equal([]);
  });

  it('ignores peer.offline and link.lost while offline, and peer.online while online', () => {
    const { actor, timers, effects } = start();
    actor.send({ type: 'peer.online' });
    expect(effects).to.deep.equal([]);
    actor.send({ type: 'peer.offline' });
    timers.advance(GRACE);
    actor.send({ type: 'peer.offline' });
    actor.send({ type: 'link.lost' });
    timers.advance(GRACE * 10);
    expect(actor.getSnapshot().value).to.equal('offline');
    expect(actor.getSnapshot().context.downs).to.equal(1);
  });
});

describe('isNewerPresence', () => {
  const at = (since: number, n: number, state: 'online' | 'offline', epoch = `e${since}`): PresencePayload => ({ v: 1, node: 'n2', epoch, route: 'R', state, since, n });

  it('takes anything when nothing was heard', () => {
    expect(isNewerPresence(at(1, 0, 'offline'), undefined)).to.equal(true);
  });

  it('orders processes by start time: a later process wins, an earlier one is stale', () => {
    expect(isNewerPresence(at(2, 0, 'online'), at(1, 9, 'online'))).to.equal(true);
    expect(isNewerPresence(at(1, 9, 'offline'), at(2, 0, 'online'))).to.equal(false);
  });

  it('orders one process by connection number: a retained copy of an older connection is stale', () => {
    expect(isNewerPresence(at(1, 1, 'online'), at(1, 0, 'offline'))).to.equal(true);
    expect(isNewerPresence(at(1, 0, 'offline'), at(1, 1, 'online'))).to.equal(false);
    expect(isNewerPresence(at(1, 0, 'online'), at(1, 1, 'online'))).to.equal(false);
  });

  it("within one connection the offline (its Will) comes after the online, never before", () => {
    expect(isNewerPresence(at(1, 3, 'offline'), at(1, 3, 'online'))).to.equal(true);
    expect(isNewerPresence(at(1, 3, 'online'), at(1, 3, 'offline'))).to.equal(false);
    expect(isNewerPresence(at(1, 3, 'online'), at(1, 3, 'online'))).to.equal(false);
  });

  it('two processes started in the same millisecond: the newer message wins', () => {
    expect(isNewerPresence(at(5, 0, 'online', 'eA'), at(5, 4, 'online', 'eB'))).to.equal(true);
  });
});

describe('Peers and stale presences', () => {
  it('ignores and counts a presence older than the last heard: a stale offline does not make a live peer suspect', () => {
    const { peers, timers, verdicts } = setup();
    peers.online('n2', presence('n2', 'online', 'e1', 2));
    peers.offline('n2', presence('n2', 'offline', 'e1', 1));
    timers.advance(GRACE * 2);
    expect(peers.stateOf('n2')).to.equal('online');
    expect(peers.stale).to.equal(1);
    expect(verdicts).to.deep.equal(['online n2']);
  });

  it('ignores the same presence heard again (a refresh) without counting it stale or judging again', () => {
    const { peers, verdicts } = setup();
    peers.online('n2', presence('n2', 'online', 'e1', 3));
    peers.online('n2', presence('n2', 'online', 'e1', 3));
    peers.online('n2', presence('n2', 'online', 'e1', 3));
    expect(peers.stale).to.equal(0);
    expect(verdicts).to.deep.equal(['online n2']);
    // An older connection's presence is still stale, and counted.
    peers.online('n2', presence('n2', 'online', 'e1', 2));
    expect(peers.stale).to.equal(1);
  });
});
