import { expect } from 'chai';
import { EndConfirmations } from '../../../src/cluster/end-confirmations.ts';
import { FakeTimers } from '../../../src/time/timers.ts';

function setup() {
  const timers = new FakeTimers();
  return { timers, confirmations: new EndConfirmations(timers) };
}

describe('EndConfirmations (a logout waits for every live node)', () => {
  it('resolves [] once every expected node confirmed, and leaves no timer', async () => {
    const { timers, confirmations } = setup();
    const done = confirmations.expect('s1', ['b', 'c'], 2000);
    confirmations.confirm('s1', 'b');
    expect(confirmations.size).to.equal(1);
    confirmations.confirm('s1', 'c');
    expect(await done).to.deep.equal([]);
    expect(confirmations.size).to.equal(0);
    expect(timers.pendingCount()).to.equal(0);
  });

  it('resolves with the nodes still missing when the wait is over', async () => {
    const { timers, confirmations } = setup();
    const done = confirmations.expect('s1', ['c', 'b'], 2000);
    confirmations.confirm('s1', 'c');
    timers.advance(2000);
    expect(await done).to.deep.equal(['b']);
    expect(timers.pendingCount()).to.equal(0);
  });

  it('ignores confirmations of other sessions, of nodes not waited for, and repeated ones', async () => {
    const { timers, confirmations } = setup();
    const done = confirmations.expect('s1', ['b'], 2000);
    confirmations.confirm('s2', 'b');
    confirmations.confirm('s1', 'x');
    confirmations.confirm('s1', 'x');
    expect(confirmations.size).to.equal(1);
    timers.advance(2000);
    expect(await done).to.deep.equal(['b']);
  });

  it('no live peer: resolves at once, no timer', async () => {
    const { timers, confirmations } = setup();
    expect(await confirmations.expect('s1', [], 2000)).to.deep.equal([]);
    expect(timers.pendingCount()).to.equal(0);
  });

  it('a node that went away is no longer waited for', async () => {
    const { confirmations } = setup();
    const done = confirmations.expect('s1', ['b', 'c'], 2000);
    confirmations.confirm('s1', 'b');
    confirmations.nodeGone('c');
    expect(await done).to.deep.equal([]);
  });

  it('a second wait for the same session answers the first with what it still missed', async () => {
    const { confirmations } = setup();
    const first = confirmations.expect('s1', ['b'], 2000);
    const second = confirmations.expect('s1', ['b'], 2000);
    expect(await first).to.deep.equal(['b']);
    confirmations.confirm('s1', 'b');
    expect(await second).to.deep.equal([]);
  });

  it('close answers every wait and drops the timers', async () => {
    const { timers, confirmations } = setup();
    const done = confirmations.expect('s1', ['b'], 2000);
    confirmations.close();
    expect(await done).to.deep.equal(['b']);
    expect(timers.pendingCount()).to.equal(0);
  });
});
