/** The ring of an actor's last transitions and the names table it refers to (pure). */
import { expect } from 'chai';
import { Names, TRANSITIONS_KEPT, TransitionRing } from '../../src/inspect/transitions.ts';

describe('inspect/transitions', () => {
  describe('Names', () => {
    it('gives one id per name, and the name back for it', () => {
      const names = new Names();
      const a = names.id('open.idle');
      expect(names.id('ws.opened')).to.not.equal(a);
      expect(names.id('open.idle')).to.equal(a);
      expect(names.name(a)).to.equal('open.idle');
      expect(names.id('')).to.be.a('number');
      expect(names.name(names.id(''))).to.equal('');
    });

    it('stores a name that comes after the table is full as (other), and grows no further', () => {
      const names = new Names(4); // two reserved ids, two names
      const first = names.id('a');
      names.id('b');
      expect(names.size).to.equal(4);
      expect(names.name(names.id('c'))).to.equal('(other)');
      expect(names.size).to.equal(4);
      expect(names.name(first)).to.equal('a');
    });

    it('refuses a table larger than its 16-bit ids', () => {
      expect(() => new Names(0x10000)).to.throw(RangeError);
    });
  });

  describe('TransitionRing', () => {
    it('lists nothing before the first transition', () => {
      expect(new TransitionRing().list(new Names())).to.deep.equal([]);
    });

    it('lists transitions oldest first, with time, event type, from and to; a start has no from', () => {
      const names = new Names();
      const ring = new TransitionRing();
      ring.push(names, 1000, 'xstate.init', null, 'upgrade');
      ring.push(names, 1005, 'handshake.accepted', 'upgrade', 'authenticated');
      ring.push(names, 1009, 'ws.opened', 'authenticated', 'open.idle');
      expect(ring.list(names)).to.deep.equal([
        { at: 1000, event: 'xstate.init', from: null, to: 'upgrade' },
        { at: 1005, event: 'handshake.accepted', from: 'upgrade', to: 'authenticated' },
        { at: 1009, event: 'ws.opened', from: 'authenticated', to: 'open.idle' },
      ]);
      expect(ring.size).to.equal(3);
    });

    it('keeps the last `capacity` transitions: the oldest is overwritten first', () => {
      const names = new Names();
      const ring = new TransitionRing(3);
      for (let i = 1; i <= 7; i++) ring.push(names, i, `e${i}`, `s${i - 1}`, `s${i}`);
      expect(ring.size).to.equal(3);
      expect(ring.list(names).map((t) => [t.at, t.event, t.from, t.to])).to.deep.equal([
        [5, 'e5', 's4', 's5'],
        [6, 'e6', 's5', 's6'],
        [7, 'e7', 's6', 's7'],
      ]);
    });

    it(`keeps ${TRANSITIONS_KEPT} by default, each exactly once, at every fill level`, () => {
      const names = new Names();
      const ring = new TransitionRing();
      for (let i = 1; i <= TRANSITIONS_KEPT * 2 + 7; i++) {
        ring.push(names, i, i % 2 ? 'ping' : 'pong', i % 2 ? 'open.idle' : 'open.probing', i % 2 ? 'open.probing' : 'open.idle');
        const times = ring.list(names).map((t) => t.at);
        const kept = Math.min(i, TRANSITIONS_KEPT);
        expect(times).to.deep.equal(Array.from({ length: kept }, (_, k) => i - kept + k + 1));
      }
    });

    it('keeps times to the millisecond (epoch times do not fit 32 bits)', () => {
      const names = new Names();
      const ring = new TransitionRing();
      const at = Date.UTC(2026, 11, 4, 23, 59, 59, 999);
      ring.push(names, at, 'x', 'a', 'b');
      expect(ring.list(names)[0].at).to.equal(at);
    });
  });
});
