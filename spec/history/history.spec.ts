import { expect } from 'chai';
import { History } from '../../src/history/history.ts';
import type { HistoryEntry } from '../../src/history/position.ts';
import type { HistoryStore } from '../../src/history/store.ts';
import { FakeTimers } from '../../src/time/timers.ts';
import type { OutboundMessage } from '../../src/delivery/message.ts';

/** A store that keeps writes but does not show them yet: a broker whose retained write is still on its way. */
class LaggingStore implements HistoryStore {
  written: Array<{ entry: HistoryEntry; slot: number }> = [];
  cleared: Array<[number, number, string, number]> = [];
  shown: HistoryEntry[] = [];
  write(entry: HistoryEntry, slot: number): void {
    this.written.push({ entry, slot });
  }
  clear(contextId: number, userId: number, origin: string, slots: number): void {
    this.cleared.push([contextId, userId, origin, slots]);
  }
  read(): Promise<HistoryEntry[]> {
    return Promise.resolve(this.shown);
  }
}

const push = (message: string, userId = 3): OutboundMessage => ({ id: message, message, contextId: 1, userId, pathFilter: null });

describe('History', () => {
  it('gives each message a position and writes it to its ring slot', () => {
    const store = new LaggingStore();
    const history = new History(store, () => ({ size: 2, ttl: 60_000 }), new FakeTimers(1_000));
    const outbound = push('a');
    history.append(outbound);
    history.append(push('b'));
    history.append(push('c'));
    expect(outbound.position).to.deep.include({ origin: history.writer.origin, seq: 1, at: 1_000 });
    expect(store.written.map((w) => w.slot)).to.deep.equal([0, 1, 0]);
  });

  it("adds its own recent writes to a read the store does not show them in, no more than the ring holds, and not after 5 s", async () => {
    const store = new LaggingStore();
    const timers = new FakeTimers(1_000);
    const history = new History(store, () => ({ size: 2, ttl: 60_000 }), timers);
    for (const m of ['a', 'b', 'c']) history.append(push(m));
    history.append(push('other', 4));
    expect((await history.read(1, 3))!.map((e) => e.message)).to.deep.equal(['b', 'c']);
    store.shown = [store.written[2].entry];
    expect((await history.read(1, 3))!.map((e) => e.message)).to.deep.equal(['c', 'b']);
    timers.advance(5_001);
    store.shown = [];
    expect(await history.read(1, 3)).to.deep.equal([]);
  });

  it('does nothing with size 0', () => {
    const store = new LaggingStore();
    const history = new History(store, () => ({ size: 0, ttl: 60_000 }), new FakeTimers(0));
    const outbound = push('a');
    history.append(outbound);
    expect(outbound.position).to.equal(undefined);
    expect(history.enabled).to.equal(false);
    expect(store.written).to.deep.equal([]);
  });

  it('clears the rings of users idle for twice the window, every half window, and stops', () => {
    const store = new LaggingStore();
    const timers = new FakeTimers(0);
    const history = new History(store, () => ({ size: 3, ttl: 10_000 }), timers);
    history.start();
    for (const m of ['a', 'b', 'c', 'd']) history.append(push(m));
    timers.advance(20_000);
    expect(store.cleared).to.deep.equal([]);
    timers.advance(5_000);
    expect(store.cleared).to.deep.equal([[1, 3, history.writer.origin, 3]]);
    history.stop();
    history.append(push('e'));
    timers.advance(100_000);
    expect(store.cleared).to.have.length(1);
  });
});
