/**
 * A node publishes its presence again every 2 x cluster.keepalive while its link is
 * online (ClusterRemote.presenceRefresh), so a peer that missed it learns of the node
 * within one interval. On a freshly started NATS cluster a node once went 60 s without
 * a peer's presence (both links online, the peer seeing it): nothing else would have
 * told it. Three nodes on the embedded broker, keepalive 2 s: a refresh every 4 s.
 */
import { expect } from 'chai';
import { eventually } from '../support/client.ts';
import { startCluster, type TestCluster } from './support.ts';

const REFRESH_MS = 4000;

describe('cluster presence refresh', function () {
  this.timeout(30_000);
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster('embedded');
  });
  after(async () => cluster?.stop());

  const sees = (viewer: 'a' | 'b' | 'c') =>
    cluster.nodes[viewer].node.cluster!.view.liveNodes().map((p) => p.id).sort();

  it('brings back a peer a node lost sight of while both were online, within one refresh', async () => {
    const { a } = cluster.nodes;
    // The fault: a's view loses c (a presence that never came, as on NATS), while c is up.
    a.node.cluster!.peers.offline('c', undefined);
    await eventually(() => !sees('a').includes('c'), 'a to lose sight of c');
    const lost = Date.now();
    await eventually(() => sees('a').includes('c'), 'a to see c again', 2 * REFRESH_MS + 2000);
    const back = Date.now() - lost;
    console.log(`      a lost sight of c; saw it again after ${back} ms (refresh every ${REFRESH_MS} ms)`);
    expect(back).to.be.at.most(REFRESH_MS + 2000);
    expect(sees('a')).to.deep.equal(['b', 'c']);
  });

  it('changes nothing for peers that already know the node: a repeat is not counted stale', async () => {
    const stale = (['a', 'b', 'c'] as const).map((n) => cluster.nodes[n].node.cluster!.peers.stale);
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS + 1000));
    expect(sees('a')).to.deep.equal(['b', 'c']);
    expect(sees('b')).to.deep.equal(['a', 'c']);
    expect(sees('c')).to.deep.equal(['a', 'b']);
    expect((['a', 'b', 'c'] as const).map((n) => cluster.nodes[n].node.cluster!.peers.stale)).to.deep.equal(stale);
  });
});
