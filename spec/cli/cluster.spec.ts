/**
 * The admin commands against a real three-node cluster (embedded broker): --cluster
 * lists the other nodes' sockets, close and push reach them.
 */
import { expect } from 'chai';
import { eventually, login, openSocket, type TestSocket } from '../support/client.ts';
import { registrySettled, startCluster, type TestCluster } from '../cluster/support.ts';
import { against } from './wsmesh-process.ts';

describe('wsmesh admin commands on a cluster (child process)', function () {
  this.timeout(30000);
  let cluster: TestCluster;
  let onB: TestSocket;
  let onC: TestSocket;
  let fromA: ReturnType<typeof against>;

  before(async () => {
    cluster = await startCluster('embedded', ['--websockets.remote.delayDuration', '0']);
    const { a, b, c } = cluster.nodes;
    fromA = against(a.url);
    const alice = await login(a.url);
    await eventually(() => b.node.sessions.get(alice.session) !== undefined && c.node.sessions.get(alice.session) !== undefined, 'the session on b and c');
    onB = await openSocket(b.wsUrl, alice, '/ws/demo', { connection: 'on-b' });
    onC = await openSocket(c.wsUrl, alice, '/ws/demo/chat', { connection: 'on-c' });
    await registrySettled(cluster, 1, 3, 2);
  });

  after(async () => {
    onB?.close();
    onC?.close();
    await cluster?.stop();
  });

  it("lists only node a's own sockets without --cluster, every node's with it (scope=cluster)", async () => {
    const local = await fromA(['sockets', 'list', '--json']);
    expect(local.code).to.equal(0);
    expect(JSON.parse(local.stdout)).to.deep.equal([]);
    const all = await fromA(['sockets', 'list', '--cluster', '--json']);
    expect(all.code).to.equal(0);
    const rows = JSON.parse(all.stdout) as Array<{ connectionId: string; node: string }>;
    expect(rows.map((r) => [r.connectionId, r.node]).sort()).to.deep.equal([['on-b', 'b'], ['on-c', 'c']]);
    const table = await fromA(['sockets', 'list', '--cluster']);
    expect(table.stdout).to.match(/^\s+1\s+3\s+\/ws\/demo\s+on-b\s+b\s+/m).and.to.contain('2 sockets in the cluster');
  });

  it('shows the cluster in stats: three nodes, the sockets of all', async () => {
    const run = await fromA(['stats']);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^node\s+a \(route A\)$/m);
    expect(run.stdout).to.match(/^sockets\s+0 on this node, 2 in the cluster$/m);
    expect(run.stdout).to.match(/^nodes\s+3$/m);
  });

  it('pushes from a to the sockets on b and c', async () => {
    const run = await fromA(['push', '--context', '1', '--user', '3', '--message', 'across']);
    expect(run.stdout).to.equal('written to 0 local sockets, queued for 2 other nodes\n');
    expect(await onB.nextFrames(1)).to.deep.equal(['across']);
    expect(await onC.nextFrames(1)).to.deep.equal(['across']);
  });

  it('closes the sockets on the other nodes (4403)', async () => {
    const run = await fromA(['sockets', 'close', '--context', '1', '--user', '3', '--path', '/ws/demo/chat']);
    expect(run.stdout).to.equal('closed 1 socket of user 3 in context 1 matching /ws/demo/chat\n');
    expect(await onC.closedWith()).to.equal(4403);
    expect(onB.closeCode).to.equal(undefined);
  });
});
