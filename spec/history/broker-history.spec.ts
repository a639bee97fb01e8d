/** BrokerHistory's read over a fake link (a unit below the socket; the real brokers are in recovery.spec.ts). */
import { expect } from 'chai';
import { BrokerHistory } from '../../src/history/broker-history.ts';
import { encodeEntry } from '../../src/history/entry-codec.ts';
import type { HistoryEntry } from '../../src/history/position.ts';
import { Topics } from '../../src/cluster/topics.ts';
import { FakeTimers } from '../../src/time/timers.ts';
import type { SubscribeOutcome } from '../../src/cluster/user-subscriptions.ts';

const entry = (seq: number, userId = 3): HistoryEntry => ({ origin: '0000000a', seq, at: seq, prev: seq - 1, prevAt: seq - 1, id: `m${seq}`, contextId: 1, userId, message: `m${seq}`, pathFilter: null });

function setup(outcome: SubscribeOutcome = 'granted') {
  const timers = new FakeTimers(0);
  const topics = new Topics('t');
  const log = { published: [] as Array<[string, string | undefined, boolean]>, subscribed: [] as string[][], unsubscribed: [] as string[][] };
  let grant: (value: SubscribeOutcome) => void = () => {};
  const history = new BrokerHistory({
    topics,
    publish: (topic, body, retain) => (log.published.push([topic, body, retain]), true),
    subscribe: (filters) => {
      log.subscribed.push(filters);
      return new Promise((resolve) => (grant = resolve));
    },
    unsubscribe: (filters) => log.unsubscribed.push(filters),
    timers,
    readTimeout: () => 2000,
  });
  const marker = () => log.published.find(([topic]) => topic.includes('/_m/'))![0].split('/').at(-1)!;
  return { history, timers, log, grant: () => grant(outcome), marker };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('BrokerHistory', () => {
  it('writes an entry retained to its slot, and clears slots with empty retained publishes', () => {
    const { history, log } = setup();
    history.write(entry(1), 7);
    history.clear(1, 3, '0000000a', 2);
    expect(log.published.map(([t, b, r]) => [t, b === undefined ? 'empty' : 'body', r])).to.deep.equal([
      ['t/internal/history/1/3/0000000a/7', 'body', true],
      ['t/internal/history/1/3/0000000a/0', 'empty', true],
      ['t/internal/history/1/3/0000000a/1', 'empty', true],
    ]);
  });

  it('reads what comes before and after its marker until the broker is quiet, shares the read, and unsubscribes', async () => {
    const { history, log, timers, grant, marker } = setup();
    const first = history.read(1, 3);
    const second = history.read(1, 3);
    expect(log.subscribed).to.deep.equal([['t/internal/history/1/3/#']]);
    grant();
    await flush();
    history.arrived(1, 3, encodeEntry(entry(1)), undefined);
    history.arrived(1, 3, undefined, marker());
    // aedes streams retained slots after its SUBACK: one may come after the marker.
    history.arrived(1, 3, encodeEntry(entry(2)), undefined);
    history.arrived(1, 4, encodeEntry(entry(9, 4)), undefined); // another user's: not this read's
    history.arrived(1, 3, encodeEntry(entry(3, 4)), undefined); // a body naming another user under this user's topic
    timers.advance(29);
    history.arrived(1, 3, 'not json', undefined);
    timers.advance(20);
    // A slot written meanwhile (not retained: live) is taken but does not hold the read open.
    history.arrived(1, 3, encodeEntry(entry(4)), undefined, false);
    timers.advance(10);
    const [a, b] = await Promise.all([first, second]);
    expect(a!.map((e) => e.seq)).to.deep.equal([1, 2, 4]);
    expect(b).to.equal(a);
    expect(log.unsubscribed).to.deep.equal([['t/internal/history/1/3/#']]);
  });

  it('answers undefined when the broker refuses the subscription, or the read times out', async () => {
    const refused = setup('refused');
    const read = refused.history.read(1, 3);
    refused.grant();
    expect(await read).to.equal(undefined);

    const slow = setup();
    const late = slow.history.read(1, 3);
    slow.grant();
    await flush();
    slow.timers.advance(2000);
    expect(await late).to.equal(undefined);
    expect(slow.log.unsubscribed).to.have.length(1);
  });
});
