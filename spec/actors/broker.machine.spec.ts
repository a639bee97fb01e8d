import { expect } from 'chai';
import { createActor, SimulatedClock } from 'xstate';
import { brokerMachine, type BrokerIo } from '../../src/actors/broker.machine.ts';

/** A broker machine on a simulated clock, with a recording io and a fixed jitter. */
function setup() {
  const calls: string[] = [];
  const io: BrokerIo = {
    connect: () => calls.push('connect'),
    end: () => calls.push('end'),
    online: () => calls.push('online'),
    offline: (reason) => calls.push(`offline ${reason}`),
  };
  const clock = new SimulatedClock();
  const actor = createActor(brokerMachine, { clock, input: { io, minBackoff: 250, maxBackoff: 5000, random: () => 1 } }).start();
  return { actor, clock, calls };
}

describe('broker link machine', () => {
  it('backs off after a lost connection, doubling up to maxBackoff, and resets once online', () => {
    const { actor, clock, calls } = setup();
    const lose = () => actor.send({ type: 'mqtt.lost', reason: 'refused' });
    lose();
    expect(actor.getSnapshot().value).to.equal('offline');
    clock.increment(249);
    expect(actor.getSnapshot().value).to.equal('offline');
    clock.increment(1);
    expect(actor.getSnapshot().value).to.equal('connecting');
    lose();
    clock.increment(499);
    expect(actor.getSnapshot().value, 'the second wait is 500 ms').to.equal('offline');
    clock.increment(1);
    actor.send({ type: 'mqtt.connected', sessionPresent: false });
    expect(actor.getSnapshot().value).to.equal('online');
    lose();
    clock.increment(250);
    expect(actor.getSnapshot().value, 'back to 250 ms after being online').to.equal('connecting');
    expect(actor.getSnapshot().context.reconnects).to.equal(3);
    expect(calls.filter((c) => c === 'connect')).to.have.length(4);
  });

  it('ends a backoff at once on link.retry (the other link is online), counting a reconnect', () => {
    const { actor, clock, calls } = setup();
    for (let i = 0; i < 6; i++) {
      actor.send({ type: 'mqtt.lost', reason: 'refused' });
      clock.increment(5000);
    }
    actor.send({ type: 'mqtt.lost', reason: 'refused' });
    expect(actor.getSnapshot().value).to.equal('offline');
    const before = actor.getSnapshot().context.reconnects;
    actor.send({ type: 'link.retry' });
    expect(actor.getSnapshot().value).to.equal('connecting');
    expect(actor.getSnapshot().context.reconnects).to.equal(before + 1);
    expect(calls.at(-1)).to.equal('connect');
    clock.increment(10_000);
    expect(actor.getSnapshot().value, 'the old backoff timer is gone').to.equal('connecting');
  });

  it('ignores link.retry while connecting or online', () => {
    const { actor, calls } = setup();
    actor.send({ type: 'link.retry' });
    expect(actor.getSnapshot().value).to.equal('connecting');
    actor.send({ type: 'mqtt.connected', sessionPresent: true });
    actor.send({ type: 'link.retry' });
    expect(actor.getSnapshot().value).to.equal('online');
    expect(calls.filter((c) => c === 'connect')).to.have.length(1);
  });
});
