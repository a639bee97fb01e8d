import { expect } from 'chai';
import { AwaitingReceipts, type HeldDelivery } from '../../../src/cluster/awaiting-receipts.ts';
import { ClusterView } from '../../../src/cluster/cluster-view.ts';
import type { PresencePayload } from '../../../src/cluster/codec.ts';
import { Receipts } from '../../../src/cluster/receipts.ts';
import { FakeTimers } from '../../../src/time/timers.ts';

const presence = (node: string, epoch: string, state: 'online' | 'offline' = 'online'): PresencePayload => ({ v: 1, node, epoch, route: node, state, since: 0, n: 1 });
const socket = (c: string, t: number) => ({ c, p: '/ws', a: '127.0.0.1', t });

function setup(options: { limit?: number; timeout?: number } = {}) {
  const timers = new FakeTimers(10_000);
  const view = new ClusterView('a');
  const online = { value: true };
  const sent: number[] = [];
  const givenUp: Array<{ n: number; missing: string[]; why: string }> = [];
  const awaiting = new AwaitingReceipts({
    view,
    timers,
    send: (held: HeldDelivery) => {
      if (!online.value) return false;
      sent.push(held.n);
      return true;
    },
    resendAfterMs: 2000,
    settleMs: 2000,
    timeoutMs: () => options.timeout ?? 60_000,
    limit: () => options.limit ?? 100,
    onGiveUp: (held, missing, why) => givenUp.push({ n: held.n, missing, why }),
  });
  // b and c are up; each holds a socket of user 1:7 since t=5000.
  view.applyPresence('b', presence('b', 'eb'));
  view.applyPresence('c', presence('c', 'ec'));
  view.applyRegistry('b', 'eb', 1, 7, [socket('b1', 5000)]);
  view.applyRegistry('c', 'ec', 1, 7, [socket('c1', 5000)]);
  timers.advance(5000); // both nodes online long enough for their registries to count
  const hold = (n: number, user = 7) => awaiting.hold(n, 'deliver/1/' + user, Buffer.from(String(n)), 1, user, 2);
  return { timers, view, online, sent, givenUp, awaiting, hold };
}

describe('AwaitingReceipts (deliveries kept until the nodes with the user sockets confirm them)', () => {
  it('lets a publish go once every node holding a socket of the user confirmed it, and sends nothing again', () => {
    const { awaiting, hold, timers, sent } = setup();
    hold(1);
    awaiting.confirm('b', [1]);
    expect(awaiting.size).to.equal(1); // c still owes it
    awaiting.confirm('c', [1]);
    expect(awaiting.size).to.equal(0);
    timers.advance(10_000);
    expect(sent).to.deep.equal([]);
    expect(timers.pendingCount()).to.equal(0);
  });

  it('sends it again every resendAfter until the missing node confirms, then stops', () => {
    const { awaiting, hold, timers, sent } = setup();
    hold(1);
    awaiting.confirm('b', [1]);
    timers.advance(2000);
    expect(sent).to.deep.equal([1]);
    timers.advance(2000);
    expect(sent).to.deep.equal([1, 1]);
    awaiting.confirm('c', [1]);
    timers.advance(10_000);
    expect(sent).to.have.length(2);
    expect(awaiting.stats).to.include({ resent: 2, confirmed: 1, givenUp: 0 });
  });

  it('sends nothing while the link is offline, and again once it is back', () => {
    const { awaiting, hold, timers, sent, online } = setup();
    hold(1);
    online.value = false;
    timers.advance(6000);
    expect(sent).to.deep.equal([]);
    online.value = true;
    awaiting.linkOnline();
    timers.advance(1000);
    expect(sent).to.deep.equal([1]);
  });

  it('waits for a node whose registry arrives late, if its socket was there before the publish', () => {
    const { awaiting, hold, timers, view, sent } = setup();
    view.applyRegistry('c', 'ec', 1, 7, undefined); // c not known to hold a socket at the publish
    view.applyRegistry('b', 'eb', 1, 8, [socket('b2', 6000)]);
    hold(1, 8);
    // Late: c's registry now shows a socket connected before the publish.
    view.applyRegistry('c', 'ec', 1, 8, [socket('c2', 9000)]);
    awaiting.confirm('b', [1]);
    expect(awaiting.size).to.equal(1);
    timers.advance(2000);
    expect(sent).to.deep.equal([1]);
    awaiting.confirm('c', [1]);
    expect(awaiting.size).to.equal(0);
  });

  it('does not wait for a socket that opened after the publish', () => {
    const { awaiting, hold, view, timers } = setup();
    view.applyRegistry('c', 'ec', 1, 7, undefined);
    hold(1);
    timers.advance(10);
    view.applyRegistry('c', 'ec', 1, 7, [socket('c9', timers.now())]);
    awaiting.confirm('b', [1]);
    expect(awaiting.size).to.equal(0);
  });

  it('excuses a node that closed the socket while online, and one replaced by a new process', () => {
    const { awaiting, hold, view, timers, givenUp } = setup();
    hold(1);
    view.applyRegistry('b', 'eb', 1, 7, undefined); // b's socket closed
    view.applyPresence('c', presence('c', 'ec2')); // c restarted: its old sockets are gone
    timers.advance(1000);
    expect(awaiting.size).to.equal(0);
    expect(givenUp).to.deep.equal([]);
  });

  it('keeps owing a node cut off (offline, same process) and sends to it when it is back online', () => {
    const { awaiting, hold, view, timers, sent } = setup();
    hold(1);
    awaiting.confirm('b', [1]);
    awaiting.peerOffline('c'); // its registry still lists the socket: cut off, not closed
    view.applyPresence('c', presence('c', 'ec', 'offline'));
    view.applyRegistry('c', 'ec', 1, 7, undefined); // the janitor removed its entries
    timers.advance(2000);
    expect(awaiting.size).to.equal(1);
    const before = sent.length;
    view.applyPresence('c', presence('c', 'ec'));
    awaiting.peerOnline('c');
    expect(sent.length).to.equal(before + 1);
    awaiting.confirm('c', [1]);
    expect(awaiting.size).to.equal(0);
  });

  it('counts a cut-off node in for what is published while it is away (its registry swept), and sends it when it is back', () => {
    const { awaiting, hold, view, timers, sent, givenUp } = setup();
    awaiting.peerOffline('c');
    view.applyPresence('c', presence('c', 'ec', 'offline'));
    view.applyRegistry('c', 'ec', 1, 7, undefined); // the janitor removed its entries
    hold(5);
    awaiting.confirm('b', [5]);
    timers.advance(5000);
    expect(awaiting.size, 'kept for c').to.equal(1);
    view.applyPresence('c', presence('c', 'ec'));
    const before = sent.length;
    awaiting.peerOnline('c');
    expect(sent.length).to.equal(before + 1);
    view.applyRegistry('c', 'ec', 1, 7, [socket('c1', 5000)]); // c announces itself again
    awaiting.confirm('c', [5]);
    expect(awaiting.size).to.equal(0);
    // Once c is back and settled, its ghost is gone: what c's registry does not list is not waited for.
    timers.advance(3000);
    view.applyRegistry('c', 'ec', 1, 7, undefined);
    hold(6);
    awaiting.confirm('b', [6]);
    expect(awaiting.size).to.equal(0);
    expect(givenUp).to.deep.equal([]);
  });

  it('gives a cut-off node up after cluster.confirmTimeout, counted', () => {
    const { awaiting, hold, view, timers, givenUp } = setup({ timeout: 10_000 });
    awaiting.peerOffline('c');
    view.applyPresence('c', presence('c', 'ec', 'offline'));
    view.applyRegistry('c', 'ec', 1, 7, undefined);
    hold(5);
    awaiting.confirm('b', [5]);
    timers.advance(11_000);
    expect(givenUp).to.deep.equal([{ n: 5, missing: ['c'], why: 'timeout' }]);
  });

  it('owes nothing for a node that closed its sockets before it left (a drain)', () => {
    const { awaiting, hold, view, timers, givenUp } = setup();
    hold(1);
    awaiting.confirm('b', [1]);
    view.applyRegistry('c', 'ec', 1, 7, undefined);
    awaiting.peerOffline('c');
    view.applyPresence('c', presence('c', 'ec', 'offline'));
    timers.advance(1000);
    expect(awaiting.size).to.equal(0);
    expect(givenUp).to.deep.equal([]);
  });

  it('gives up after cluster.confirmTimeout, naming the nodes that did not confirm', () => {
    const { awaiting, hold, timers, givenUp } = setup({ timeout: 10_000 });
    hold(1);
    awaiting.confirm('b', [1]);
    timers.advance(11_000);
    expect(givenUp).to.deep.equal([{ n: 1, missing: ['c'], why: 'timeout' }]);
    expect(awaiting.size).to.equal(0);
    expect(timers.pendingCount()).to.equal(0);
  });

  it('holds at most the limit: the oldest is let go, and given up only when a node still owed it', () => {
    const { awaiting, hold, givenUp } = setup({ limit: 2 });
    hold(1);
    hold(2);
    hold(3);
    expect(awaiting.size).to.equal(2);
    expect(givenUp).to.deep.equal([{ n: 1, missing: ['b', 'c'], why: 'overflow' }]);
  });

  it('keeps a publish nobody is known to need for settleMs after the link came online, then lets it go', () => {
    const { awaiting, view, timers } = setup();
    awaiting.hold(1, 'deliver/1/9', Buffer.from('x'), 1, 9, 1);
    timers.advance(1000);
    awaiting.linkOnline();
    timers.advance(1500);
    expect(awaiting.size).to.equal(1);
    // A late registry names b: now it owes it.
    view.applyRegistry('b', 'eb', 1, 9, [socket('b3', 1)]);
    timers.advance(3000);
    expect(awaiting.size).to.equal(1);
    awaiting.confirm('b', [1]);
    expect(awaiting.size).to.equal(0);
  });

  it('ignores receipts for publishes it does not hold', () => {
    const { awaiting } = setup();
    awaiting.confirm('b', [41, 42]);
    expect(awaiting.size).to.equal(0);
  });
});

describe('Receipts (what a node owes the senders of the deliveries it got)', () => {
  it('gathers receipts per sender process and sends one publish per sender per delay, each number once', () => {
    const timers = new FakeTimers();
    const out: Array<[string, string, number[]]> = [];
    const receipts = new Receipts((to, epoch, ns) => out.push([to, epoch, ns]), timers, 10);
    receipts.received('a', 'e1', 1);
    receipts.received('a', 'e1', 2);
    receipts.received('a', 'e1', 2);
    receipts.received('b', 'e2', 1);
    expect(out).to.deep.equal([]);
    timers.advance(10);
    expect(out).to.deep.equal([
      ['a', 'e1', [1, 2]],
      ['b', 'e2', [1]],
    ]);
    expect(timers.pendingCount()).to.equal(0);
    receipts.received('a', 'e1', 3);
    receipts.stop();
    timers.advance(10);
    expect(out).to.have.length(2);
  });
});
