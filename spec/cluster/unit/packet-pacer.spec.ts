/**
 * The pacer of the broker's packets (cluster/packet-pacer.ts): mqtt.js takes the next
 * packet when the callback runs; once a turn's packets took the slice, the callback
 * waits for the next turn. Fake time and a fake turn: the turns are run by hand.
 */
import { expect } from 'chai';
import { PacketPacer } from '../../../src/cluster/packet-pacer.ts';

function harness(sliceMs = 5) {
  let now = 0;
  let turn: Array<() => void> = [];
  const pacer = new PacketPacer({ sliceMs: () => sliceMs, now: () => now, nextTurn: (fn) => turn.push(fn) });
  return {
    pacer,
    advance: (ms: number) => (now += ms),
    /** Ends the current turn: runs what was put off to the next one. */
    nextTurn: () => {
      const due = turn;
      turn = [];
      for (const fn of due) fn();
    },
    pending: () => turn.length,
  };
}

describe('cluster packet pacer', () => {
  it('takes packets at once while the turn has time left', () => {
    const h = harness();
    let handled = 0;
    for (let i = 0; i < 10; i++) {
      h.pacer.handle({}, () => handled++);
      h.advance(0.4);
    }
    expect(handled).to.equal(10);
    expect(h.pacer.yieldCount).to.equal(0);
  });

  it('puts the next packet off to the next turn once the slice is spent, then starts a fresh slice', () => {
    const h = harness(5);
    const handled: number[] = [];
    // mqtt.js's loop: the next packet is taken in the previous one's callback.
    let next = 0;
    const take = () => {
      const n = next++;
      if (n >= 30) return;
      h.advance(1);
      h.pacer.handle({}, () => {
        handled.push(n);
        take();
      });
    };
    take();
    const firstTurn = handled.length;
    expect(firstTurn).to.be.within(5, 6);
    expect(h.pacer.yieldCount).to.equal(1);
    let turns = 1;
    while (handled.length < 30 && turns < 100) {
      h.nextTurn();
      turns++;
    }
    expect(handled).to.deep.equal(Array.from({ length: 30 }, (_, i) => i));
    console.log(`      30 packets of 1 ms with a 5 ms slice: ${firstTurn} in the first turn, ${turns} turns, ${h.pacer.yieldCount} yields`);
    expect(turns).to.be.within(5, 7);
  });

  it('does not carry a spent slice into a later turn', () => {
    const h = harness(5);
    let handled = 0;
    h.pacer.handle({}, () => handled++);
    h.advance(50);
    h.nextTurn();
    h.pacer.handle({}, () => handled++);
    expect(handled).to.equal(2);
    expect(h.pacer.yieldCount).to.equal(0);
  });

  it('never puts a packet off with a slice of 0', () => {
    const h = harness(0);
    let handled = 0;
    for (let i = 0; i < 5; i++) {
      h.advance(100);
      h.pacer.handle({}, () => handled++);
    }
    expect(handled).to.equal(5);
    expect(h.pending()).to.equal(0);
  });
});
