/**
 * The page's model of another node, or of every node (src/http/public/inspector/sampled.js):
 * the latest answer of `GET /api/admin/inspector/actors?node=`, shown whole.
 */
import { expect } from 'chai';
import { LIST_CAP } from '../../src/http/public/inspector/model.js';
import { SampledModel, type ClusterSample } from '../../src/http/public/inspector/sampled.js';

const actor = (node: string, id: string, state = 'open.idle') => ({ node, id, machine: 'connection', state, label: `${node} ${id}` });

function answer(node: string, over: Partial<ClusterSample> = {}): ClusterSample {
  return {
    node,
    at: 1000,
    counts: { node: { running: 2 }, connection: { 'open.idle': 2, 'open.probing': 1, upgrade: 0 } },
    totals: { node: { live: 2, created: 2, ended: 0 }, connection: { live: 3, created: 4, ended: 1 } },
    matching: 5,
    actors: [actor('a', 'x:1'), actor('b', 'x:1'), actor('b', 'x:2', 'open.probing')],
    nodes: { answered: [{ node: 'a', seq: 1, at: 1000, matching: 2 }, { node: 'b', seq: 4, at: 1000, matching: 3 }], unanswered: [], failed: [] },
    ...over,
  };
}

describe('inspector page, sampled nodes (src/http/public/inspector/sampled.js)', () => {
  it('shows an answer whole: counts, nested counts, live totals, and actors of two nodes with the same id apart', () => {
    const model = new SampledModel('all');
    expect(model.apply(answer('all'), model.ask())).to.equal(true);
    expect(model.countIn('connection', 'open')).to.equal(3);
    expect(model.countIn('connection', 'open.idle')).to.equal(2);
    expect(model.live('connection')).to.equal(3);
    expect(model.actor('a', 'x:1')?.label).to.equal('a x:1');
    expect(model.actor('b', 'x:1')?.label).to.equal('b x:1');
    const view = model.view(['connection', 'node']);
    expect(view.total).to.equal(5);
    const groups = view.machines.find((m) => m.machine === 'connection')!.groups;
    expect(groups.map((g) => [g.key, g.count, g.actors.map((a) => `${a.node} ${a.id}`), g.more])).to.deep.equal([
      ['connection/open.idle', 2, ['a x:1', 'b x:1'], 0],
      ['connection/open.probing', 1, ['b x:2'], 0],
    ]);
    expect(view.machines.find((m) => m.machine === 'node')!.groups).to.deep.equal([{ key: 'node/running', state: 'running', count: 2, actors: [], more: 2 }]);
  });

  it('replaces the last answer with the next: an actor gone from it is gone', () => {
    const model = new SampledModel('b');
    model.apply(answer('b'), model.ask());
    model.apply(answer('b', { counts: { connection: { 'open.idle': 1 } }, actors: [actor('b', 'x:1')] }), model.ask());
    expect(model.actor('b', 'x:2')).to.equal(undefined);
    expect(model.countIn('connection', 'open')).to.equal(1);
  });

  it('drops an answer to an earlier request that arrives after a later one, and an answer about another node', () => {
    const model = new SampledModel('b');
    const first = model.ask();
    const second = model.ask();
    expect(model.apply(answer('b', { at: 2 }), second)).to.equal(true);
    expect(model.apply(answer('b', { at: 1 }), first)).to.equal(false);
    expect(model.at).to.equal(2);
    expect(model.apply(answer('all', { at: 3 }), model.ask())).to.equal(false);
    expect(model.at).to.equal(2);
  });

  it(`lists at most ${LIST_CAP} actors per group, and counts the rest`, () => {
    const model = new SampledModel('b');
    const many = Array.from({ length: 20 }, (_, i) => actor('b', `x:${i}`));
    model.apply(answer('b', { counts: { connection: { 'open.idle': 30 } }, actors: many }), model.ask());
    const [group] = model.view(['connection']).machines[0].groups;
    expect(group.actors).to.have.length(LIST_CAP);
    expect(group.more).to.equal(30 - LIST_CAP);
  });

  it('keeps the nodes that did not answer, for the status line', () => {
    const model = new SampledModel('all');
    model.apply(answer('all', { nodes: { answered: [], unanswered: ['c'], failed: [{ node: 'd', error: 'failed' }] } }), model.ask());
    expect(model.nodes).to.deep.equal({ answered: [], unanswered: ['c'], failed: [{ node: 'd', error: 'failed' }] });
  });
});
