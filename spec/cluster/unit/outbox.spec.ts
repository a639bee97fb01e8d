import { expect } from 'chai';
import { Outbox, type Publish } from '../../../src/cluster/outbox.ts';

const msg = (topic: string, text = topic): Publish => ({ topic, payload: Buffer.from(text), retain: false });
const state = (topic: string, text = topic): Publish => ({ topic, payload: Buffer.from(text), retain: true });
const view = (all: Publish[]) => all.map((p) => `${p.retain ? 'R' : 'M'} ${p.topic}=${p.payload.toString()}`);

describe('Outbox', () => {
  it('holds messages up to the limit and refuses the next one, counting it', () => {
    const box = new Outbox(2);
    expect(box.add(msg('a'))).to.equal(true);
    expect(box.add(msg('b'))).to.equal(true);
    expect(box.add(msg('c'))).to.equal(false);
    expect(box.add(msg('d'))).to.equal(false);
    expect(box.size).to.equal(2);
    expect(box.overflowed).to.equal(2);
    expect(view(box.drain())).to.deep.equal(['M a=a', 'M b=b']);
  });

  it('keeps every message, in order, also several to the same topic', () => {
    const box = new Outbox(10);
    box.add(msg('t', '1'));
    box.add(msg('u', '2'));
    box.add(msg('t', '3'));
    expect(view(box.drain())).to.deep.equal(['M t=1', 'M u=2', 'M t=3']);
  });

  it('keeps only the last value per topic of retained state, which never counts against the limit', () => {
    const box = new Outbox(1);
    expect(box.add(msg('m'))).to.equal(true);
    expect(box.add(state('p', 'old'))).to.equal(true);
    expect(box.add(state('q'))).to.equal(true);
    expect(box.add(state('p', 'new'))).to.equal(true);
    expect(box.size).to.equal(1);
    expect(box.overflowed).to.equal(0);
    expect(box.add(msg('n'))).to.equal(false);
    expect(box.overflowed).to.equal(1);
    expect(view(box.drain())).to.deep.equal(['R q=q', 'R p=new', 'M m=m']);
  });

  it('keeps a retained clear (empty payload) as the last value of its topic', () => {
    const box = new Outbox(1);
    box.add(state('s', 'record'));
    box.add({ topic: 's', payload: Buffer.alloc(0), retain: true });
    const [only, ...rest] = box.drain();
    expect(rest).to.deep.equal([]);
    expect(only.topic).to.equal('s');
    expect(only.payload.length).to.equal(0);
  });

  it('drains state first (in the order of last writes), then messages in order, and empties itself', () => {
    const box = new Outbox(10);
    box.add(msg('m1'));
    box.add(state('s1'));
    box.add(msg('m2'));
    box.add(state('s2'));
    expect(view(box.drain())).to.deep.equal(['R s1=s1', 'R s2=s2', 'M m1=m1', 'M m2=m2']);
    expect(box.size).to.equal(0);
    expect(box.drain()).to.deep.equal([]);
  });

  it('takes messages again after a drain, up to the limit', () => {
    const box = new Outbox(1);
    box.add(msg('a'));
    expect(box.add(msg('b'))).to.equal(false);
    box.drain();
    expect(box.add(msg('c'))).to.equal(true);
    expect(box.overflowed).to.equal(1); // the count is cumulative, not reset by a drain
    expect(view(box.drain())).to.deep.equal(['M c=c']);
  });

  it('applies a raised limit to the next message', () => {
    const box = new Outbox(1);
    box.add(msg('a'));
    expect(box.add(msg('b'))).to.equal(false);
    box.limit = 3;
    expect(box.add(msg('b'))).to.equal(true);
    expect(box.add(msg('c'))).to.equal(true);
    expect(box.add(msg('d'))).to.equal(false);
    expect(box.size).to.equal(3);
  });

  it('keeps what it holds when the limit is lowered below its size, and refuses new messages', () => {
    const box = new Outbox(3);
    box.add(msg('a'));
    box.add(msg('b'));
    box.add(msg('c'));
    box.limit = 1;
    expect(box.add(msg('d'))).to.equal(false);
    expect(box.size).to.equal(3);
    expect(view(box.drain())).to.deep.equal(['M a=a', 'M b=b', 'M c=c']);
    expect(box.add(msg('e'))).to.equal(true);
    expect(box.add(msg('f'))).to.equal(false);
  });

  it('refuses every message with a limit of 0, but still keeps state', () => {
    const box = new Outbox(0);
    expect(box.add(msg('a'))).to.equal(false);
    expect(box.add(state('s'))).to.equal(true);
    expect(box.overflowed).to.equal(1);
    expect(view(box.drain())).to.deep.equal(['R s=s']);
  });
});
