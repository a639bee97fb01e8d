/**
 * Socket.IO across nodes, with the real clients (4.x on Engine.IO v4, 2.x on v3):
 * a push on one node and a logout on another reach Socket.IO clients on a third;
 * and a client whose node restarts reconnects by itself, with the same session,
 * and receives pushes from the other node again (real node and broker processes).
 */
import { expect } from 'chai';
import { admin, eventually, login, push, type Login } from '../support/client.ts';
import { killAllBrokers, startEmbeddedBrokerProcess, type BrokerProcess } from '../support/broker.ts';
import { killAll, startNodeProcess, type NodeProcess } from '../support/process.ts';
import { CLIENTS, IoClientPool, PATH, type ClientKind, type IoClient } from '../support/socket-io.ts';
import { registrySettled, startCluster, type TestCluster } from '../cluster/support.ts';

describe('Socket.IO across the cluster', function () {
  this.timeout(30000);
  // Across nodes and restarts, events take longer than on one node.
  const clients = new IoClientPool({ timeoutMs: 5000 });
  let cluster: TestCluster | undefined;

  afterEach(async () => {
    clients.closeAll();
    await cluster?.stop();
    cluster = undefined;
    await killAll();
    await killAllBrokers();
  });

  function client(kind: ClientKind, origin: string, auth: Pick<Login, 'session' | 'cookie'>, options: Record<string, unknown> = {}, events: string[] = []): IoClient {
    return clients.open(kind, origin, auth, { client: options, events });
  }

  describe('three in-process nodes on the embedded broker', () => {
    it('delivers an event pushed on node a to a 4.x and a 2.x client on node b', async () => {
      cluster = await startCluster('embedded');
      const { a, b } = cluster.nodes;
      const auth = await login(a.url);
      await eventually(() => b.node.sessions.get(auth.session) !== undefined, 'the session on b');
      const [v4, v2] = await Promise.all(CLIENTS.map((kind) => client(kind, b.url, auth, {}, ['calendar:update']).connected()));
      await registrySettled(cluster, auth.contextId, auth.userId, 2);
      const pushed = await push(a.url, { contextId: auth.contextId, userId: auth.userId, message: { name: 'calendar:update', args: [42, { from: 'a' }] }, pathFilter: `${PATH}/*` });
      expect(pushed.status).to.equal(202);
        expect(pushed.body).to.deep.include({ local: 0, remote: 1 });
      expect(await v4.next('calendar:update')).to.deep.equal([42, { from: 'a' }]);
      expect(await v2.next('calendar:update')).to.deep.equal([42, { from: 'a' }]);
      expect(v4.count('calendar:update') + v2.count('calendar:update')).to.equal(2);
    });

    it('sends session:invalid, then disconnects, clients on node b when the session logs out on node c', async () => {
      cluster = await startCluster('embedded');
      const { a, b, c } = cluster.nodes;
      const auth = await login(a.url);
      await eventually(() => b.node.sessions.get(auth.session) !== undefined && c.node.sessions.get(auth.session) !== undefined, 'the session on b and c');
      const onB = await Promise.all(CLIENTS.map((kind) => client(kind, b.url, auth, { reconnection: true, reconnectionDelay: 50 }).connected()));
      const res = await fetch(`${c.url}/api/logout?session=${auth.session}`, { method: 'POST', headers: { cookie: auth.cookie } });
      expect(res.status).to.equal(204);
      for (const socket of onB) {
        expect((await socket.next('disconnect'))[0]).to.equal('io server disconnect');
        const order = socket.log.map((e) => e.event).filter((e) => e === 'session:invalid' || e === 'disconnect');
        expect(order).to.deep.equal(['session:invalid', 'disconnect']);
      }
      await eventually(() => b.node.index.countOfUser(auth.contextId, auth.userId) === 0, 'node b to close the sockets');
    });
  });

  describe('a node restart (real processes on an embedded broker process)', () => {
    let broker: BrokerProcess;

    async function nodeProcess(id: string, port?: number): Promise<NodeProcess> {
      return startNodeProcess(['--broker', broker.url, '--session.keys', 'k', '--node-id', id, '--cluster.keepalive', '2', '--cluster.username', broker.username!, '--cluster.password', broker.password!], {}, { port });
    }

    for (const kind of CLIENTS) {
      it(`${kind.name} reconnects by itself to the restarted node with the same session, and receives an event pushed on the other node`, async () => {
        broker = await startEmbeddedBrokerProcess();
        const a = await nodeProcess('A');
        let b = await nodeProcess('B');
        const auth = await login(a.url);
        const sessionOn = (url: string) => async () => (await fetch(`${url}/api/session?session=${auth.session}`, { headers: { cookie: auth.cookie } })).status === 200;
        await eventually(sessionOn(b.url), 'the session on B', 5000);

        const socket = await client(kind, b.url, auth, { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 300 }, ['news']).connected();
        const clusterSockets = async () =>
          (await admin(a.url, 'GET', `/api/admin/sockets?scope=cluster&contextId=${auth.contextId}&userId=${auth.userId}`)).body as Array<{ node: string; path: string }>;
        await eventually(async () => (await clusterSockets()).some((s) => s.node === 'B'), 'A to see the socket on B', 5000);

        b.child.kill('SIGTERM');
        expect((await b.exited).code).to.equal(0);
        expect((await socket.next('disconnect'))[0]).to.equal('transport close');

        b = await nodeProcess('B', b.port);
        await socket.next('connect', 2, 15000);
        expect(socket.socket.connected).to.equal(true);
        await eventually(async () => (await clusterSockets()).some((s) => s.node === 'B' && s.path === PATH), 'A to see the socket on the new B', 5000);

        const pushed = await push(a.url, { contextId: auth.contextId, userId: auth.userId, message: { name: 'news', args: ['after restart'] } });
        expect(pushed.status).to.equal(202);
        expect(pushed.body.remote).to.equal(1);
        expect(await socket.next('news')).to.deep.equal(['after restart']);
      });
    }
  });
});
