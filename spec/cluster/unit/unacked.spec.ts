import { expect } from 'chai';
import { Unacked } from '../../../src/cluster/unacked.ts';
import type { Publish } from '../../../src/cluster/outbox.ts';
import { FakeTimers } from '../../../src/time/timers.ts';

const event = (topic: string): Publish => ({ topic, payload: Buffer.from(topic), retain: false });

function setup(online = { value: true }) {
  const timers = new FakeTimers();
  const sent: Array<{ topic: string; acked: () => void }> = [];
  const givenUp: string[] = [];
  const unacked = new Unacked({
    timers,
    afterMs: 2000,
    resend: (publish, acked) => {
      if (!online.value) return false;
      sent.push({ topic: publish.topic, acked });
      return true;
    },
    onGiveUp: (publish) => givenUp.push(publish.topic),
  });
  return { timers, sent, givenUp, unacked, online };
}

describe('Unacked (events sent again when their PUBACK is late)', () => {
  it('forgets a publish acknowledged in time: nothing resent, no timer left', () => {
    const { timers, sent, unacked } = setup();
    const acked = unacked.track(event('a'));
    timers.advance(1500);
    acked();
    timers.advance(10_000);
    expect(sent).to.deep.equal([]);
    expect(unacked.size).to.equal(0);
    expect(timers.pendingCount()).to.equal(0);
  });

  it('sends a publish again once its PUBACK is afterMs late, and stops when the second copy is acknowledged', () => {
    const { timers, sent, unacked } = setup();
    unacked.track(event('a'));
    timers.advance(1999);
    expect(sent).to.deep.equal([]);
    timers.advance(1001);
    expect(sent.map((s) => s.topic)).to.deep.equal(['a']);
    sent[0].acked();
    timers.advance(10_000);
    expect(sent.length).to.equal(1);
    expect(unacked.stats).to.deep.equal({ resent: 1, givenUp: 0 });
    expect(timers.pendingCount()).to.equal(0);
  });

  it('a late PUBACK of the first send also ends it', () => {
    const { timers, sent, unacked } = setup();
    const first = unacked.track(event('a'));
    timers.advance(2000);
    expect(sent.length).to.equal(1);
    first();
    timers.advance(10_000);
    expect(sent.length).to.equal(1);
    expect(unacked.size).to.equal(0);
  });

  it('gives up after maxResends (3) and says so', () => {
    const { timers, sent, givenUp, unacked } = setup();
    unacked.track(event('a'));
    timers.advance(20_000);
    expect(sent.length).to.equal(3);
    expect(givenUp).to.deep.equal(['a']);
    expect(unacked.size).to.equal(0);
    expect(timers.pendingCount()).to.equal(0);
  });

  it('resends only the overdue, oldest first, and keeps the younger waiting', () => {
    const { timers, sent, unacked } = setup();
    unacked.track(event('old'));
    timers.advance(1500);
    unacked.track(event('young'));
    timers.advance(500);
    expect(sent.map((s) => s.topic)).to.deep.equal(['old']);
    sent[0].acked();
    // Swept every afterMs / 2: a publish goes out again between 1 and 1.5 x afterMs late.
    timers.advance(2000);
    expect(sent.map((s) => s.topic)).to.deep.equal(['old', 'young']);
  });

  it('offline, sends nothing and keeps waiting (mqtt.js resends its stored copy on reconnection)', () => {
    const online = { value: false };
    const { timers, sent, givenUp, unacked } = setup(online);
    const first = unacked.track(event('a'));
    timers.advance(60_000);
    expect(sent).to.deep.equal([]);
    expect(givenUp).to.deep.equal([]);
    first(); // the stored copy's PUBACK after the reconnection
    expect(unacked.size).to.equal(0);
  });

  it('clear drops everything and the timer', () => {
    const { timers, unacked } = setup();
    unacked.track(event('a'));
    unacked.clear();
    expect(unacked.size).to.equal(0);
    expect(timers.pendingCount()).to.equal(0);
  });
});
