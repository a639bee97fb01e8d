/**
 * Questions to every live node over a real broker (cluster/queries.ts): three real
 * nodes on the embedded broker; each answers on the asker's answers topic, sealed.
 */
import { expect } from 'chai';
import { killAllBrokers } from '../support/broker.ts';
import { BROKER_KINDS, requireBroker, startCluster, type TestCluster } from './support.ts';

for (const kind of BROKER_KINDS.filter((k) => k !== 'embedded')) {
  describe(`queries over the ${kind} broker`, function () {
    this.timeout(kind === 'nats' ? 90_000 : 30_000);
    let cluster: TestCluster | undefined;
    before(function () {
      requireBroker(this, kind);
    });
    after(async () => {
      await cluster?.stop();
      await killAllBrokers();
    });

    it('asks every live node and gets each answer through the broker (the node ACLs allow queries and answers)', async () => {
      cluster = await startCluster(kind);
      for (const [id, n] of Object.entries(cluster.nodes)) n.node.queries.register('test.who', () => id);
      const result = await cluster.nodes.c.node.queries.ask('test.who', null, kind === 'nats' ? 5000 : 2000);
      expect(result).to.deep.equal({ answers: ['a', 'b', 'c'].map((id) => ({ node: id, body: id })), unanswered: [] });
    });
  });
}

describe('queries over the embedded broker', function () {
  this.timeout(30_000);
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('asks every live node, itself included, and gets each answer through the broker', async () => {
    cluster = await startCluster('embedded');
    for (const [id, n] of Object.entries(cluster.nodes)) n.node.queries.register('test.who', (body, asker) => ({ id, asker, body }));
    const result = await cluster.nodes.b.node.queries.ask('test.who', { n: 1 }, 2000);
    expect(result).to.deep.equal({
      answers: ['a', 'b', 'c'].map((id) => ({ node: id, body: { id, asker: 'b', body: { n: 1 } } })),
      unanswered: [],
    });
  });

  it('names a live node without a responder for the kind as answering unknown-kind', async () => {
    cluster = await startCluster('embedded');
    cluster.nodes.a.node.queries.register('test.only-a', () => 'a');
    const result = await cluster.nodes.a.node.queries.ask('test.only-a', null, 2000);
    expect(result.answers).to.deep.equal([{ node: 'a', body: 'a' }, { node: 'b', error: 'unknown-kind' }, { node: 'c', error: 'unknown-kind' }]);
  });

  it('names a node that does not answer within the timeout', async () => {
    cluster = await startCluster('embedded');
    for (const n of Object.values(cluster.nodes)) n.node.queries.register('test.slow', () => 'quick');
    // c's responder never settles: c is live but does not answer.
    cluster.nodes.c.node.queries.register('test.slow', () => new Promise(() => {}));
    const started = Date.now();
    const result = await cluster.nodes.a.node.queries.ask('test.slow', null, 500);
    expect(Date.now() - started).to.be.within(450, 2000);
    expect(result).to.deep.equal({ answers: [{ node: 'a', body: 'quick' }, { node: 'b', body: 'quick' }], unanswered: ['c'] });
  });
});
