/**
 * Three real nodes on one broker: sessions, delivery, limits, listing and closing
 * hold across the cluster. Run on the embedded broker, on Mosquitto (started with
 * the project's mosquitto.conf) and on a 3-server NATS cluster (config/nats/, each
 * node on its own server); a missing binary fails under CI.
 */
import { expect } from 'chai';
import { admin, eventually, login, openSocket, push, type TestSocket } from '../support/client.ts';
import { killAllBrokers } from '../support/broker.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats.ts';
import { BROKER_KINDS, registrySettled, requireBroker, startCluster, type TestCluster } from './support.ts';

for (const kind of BROKER_KINDS) {
  describe(`cluster on the ${kind} broker`, function () {
    // On NATS every subscription is a replicated JetStream consumer (0.3-0.6 s each),
    // so a cluster start and a socket open take seconds (config/nats/README.md).
    this.timeout(kind === 'nats' ? 90_000 : 30_000);
    let cluster: TestCluster;
    const sockets: TestSocket[] = [];

    /** One NATS cluster for the suite (it takes seconds to start); nodes are new per test. */
    const shared: { nats?: NatsCluster } = {};

    before(async function () {
      requireBroker(this, kind);
      if (kind === 'nats') shared.nats = await startNatsCluster();
    });
    afterEach(async () => {
      for (const socket of sockets.splice(0)) socket.close();
      await cluster?.stop();
    });
    after(() => killAllBrokers());

    /** Alice logs in on a and opens one socket on b; every node has seen it. */
    async function aliceOnB(): Promise<TestSocket> {
      const { a, b } = cluster.nodes;
      const auth = await login(a.url);
      await eventually(() => b.node.sessions.get(auth.session) !== undefined, 'replication');
      const socket = await openSocket(b.wsUrl, auth);
      sockets.push(socket);
      await registrySettled(cluster, 1, 3, 1);
      return socket;
    }

    describe('sessions', () => {
      it('accepts a login made on node a for an API call on b and a socket on c within a second', async () => {
        cluster = await startCluster(kind, [], shared);
        const { a, b, c } = cluster.nodes;
        const auth = await login(a.url);
        await eventually(async () => (await fetch(`${b.url}/api/session?session=${auth.session}`, { headers: { cookie: auth.cookie } })).status === 200, 'the session on b', 1000);
        sockets.push(await openSocket(c.wsUrl, auth));
      });

      it('closes the session\'s sockets on every node with 4401 on a logout anywhere', async () => {
        cluster = await startCluster(kind, [], shared);
        const { a, b, c } = cluster.nodes;
        const auth = await login(a.url);
        const other = await login(a.url); // another session of the same user stays open
        await eventually(() => b.node.sessions.get(auth.session) !== undefined && c.node.sessions.get(auth.session) !== undefined, 'replication');
        const onA = await openSocket(a.wsUrl, auth, '/ws/x');
        const onC = await openSocket(c.wsUrl, auth, '/ws/y');
        await eventually(() => c.node.sessions.get(other.session) !== undefined, 'replication of the other');
        const stays = await openSocket(c.wsUrl, other, '/ws/z');
        sockets.push(onA, onC, stays);
        const res = await fetch(`${b.url}/api/logout?session=${auth.session}`, { method: 'POST', headers: { cookie: auth.cookie } });
        expect(res.status).to.equal(204);
        expect(await onA.closedWith()).to.equal(4401);
        expect(await onC.closedWith()).to.equal(4401);
        expect(stays.closeCode).to.equal(undefined);
        for (const n of [a, b, c]) expect(n.node.sessions.get(auth.session)).to.equal(undefined);
      });

      it('never puts a raw secret on the broker: records carry only its hash', async () => {
        cluster = await startCluster(kind, [], shared);
        const { a, b } = cluster.nodes;
        const auth = await login(a.url);
        await eventually(() => b.node.sessions.get(auth.session) !== undefined, 'replication');
        const secret = auth.cookie.match(/wsmesh-secret=([^;]+)/)![1];
        const record = b.node.sessions.get(auth.session)!;
        expect(JSON.stringify(record)).not.to.contain(secret);
        expect(record.secretHash).to.match(/^[0-9a-f]{64}$/);
      });
    });

    describe('delivery', () => {
      it('delivers a push on a to the user\'s sockets on b and c, and only to nodes with matching sockets', async () => {
        cluster = await startCluster(kind, ['--websockets.remote.delayDuration', '0'], shared);
        const { a, b, c } = cluster.nodes;
        const auth = await login(a.url);
        await eventually(() => c.node.sessions.get(auth.session) !== undefined, 'replication');
        const onB = await openSocket(b.wsUrl, auth, '/ws/x/1');
        const onC = await openSocket(c.wsUrl, auth, '/ws/y');
        sockets.push(onB, onC);
        await registrySettled(cluster, 1, 3, 2);
        const all = await push(a.url, { contextId: 1, userId: 3, message: 'to all' });
        expect(all.body).to.deep.include({ local: 0, remote: 2 });
        expect(await onB.nextFrames(1)).to.deep.equal(['to all']);
        expect(await onC.nextFrames(1)).to.deep.equal(['to all']);
        const cBefore = c.node.stats.messagesDelivered;
        const filtered = await push(a.url, { contextId: 1, userId: 3, message: 'x only', pathFilter: '/ws/x/*' });
        expect(filtered.body).to.deep.include({ local: 0, remote: 1 });
        expect(await onB.nextFrames(2)).to.deep.equal(['to all', 'x only']);
        // c holds a socket of the user, so it receives the user's topic, but none matches: nothing written.
        await new Promise((r) => setTimeout(r, 200));
        expect(c.node.stats.messagesDelivered).to.equal(cBefore);
        expect(onC.frames).to.deep.equal(['to all']);
      });

      it('carries the sourceToken to the other nodes: the sender\'s own socket is skipped wherever it is', async () => {
        cluster = await startCluster(kind, ['--websockets.remote.delayDuration', '0'], shared);
        const { a, b, c } = cluster.nodes;
        const auth = await login(a.url);
        await eventually(() => c.node.sessions.get(auth.session) !== undefined, 'replication');
        const sender = await openSocket(b.wsUrl, auth, '/ws/app', { connection: 'sender' });
        const peer = await openSocket(c.wsUrl, auth, '/ws/app', { connection: 'peer' });
        sockets.push(sender, peer);
        await registrySettled(cluster, 1, 3, 2);
        await push(a.url, { contextId: 1, userId: 3, message: 'echo', sourceToken: 'sender' });
        expect(await peer.nextFrames(1)).to.deep.equal(['echo']);
        await new Promise((r) => setTimeout(r, 200));
        expect(sender.frames).to.deep.equal([]);
      });

      it('with the defaults, coalesces a burst into one publish per node, in arrival order, without exact duplicates', async () => {
        cluster = await startCluster(kind, [], shared);
        const { a } = cluster.nodes;
        const onB = await aliceOnB();
        const publishes = a.node.stats.remotePublishes;
        const started = Date.now();
        for (let i = 0; i < 20; i++) await push(a.url, { contextId: 1, userId: 3, message: `m${i % 10}` });
        expect((await admin(a.url, 'GET', '/api/admin/stats')).body.bufferedMessages).to.equal(10);
        const frames = await onB.nextFrames(10, 6000);
        const waited = Date.now() - started;
        expect(frames).to.deep.equal(Array.from({ length: 10 }, (_, i) => `m${i}`));
        expect(a.node.stats.remotePublishes - publishes).to.equal(1);
        // delayDuration (1000) at least; at most maxDelayDuration (3000) plus a tick (500), with slack for the machine.
        expect(waited).to.be.within(1000, 3500 + 1500);
        await new Promise((r) => setTimeout(r, 300));
        expect(onB.frames).to.have.length(10);
      });

      it('applies reloaded buffer settings at runtime: delayDuration 0 forwards the next message at once', async () => {
        cluster = await startCluster(kind, ['--websockets.remote.delayDuration', '2000', '--websockets.remote.maxDelayDuration', '3000'], shared);
        const { a } = cluster.nodes;
        const onB = await aliceOnB();
        const next = structuredClone(a.config);
        next.websockets.remote.delayDuration = 0;
        a.node.applyConfig(next, { changed: ['websockets.remote.delayDuration'], reloadable: ['websockets.remote.delayDuration'], restartRequired: [] });
        const started = Date.now();
        await push(a.url, { contextId: 1, userId: 3, message: 'now' });
        await onB.nextFrames(1, 1500);
        expect(Date.now() - started).to.be.below(1000);
      });
    });

    describe('cluster-wide operations', () => {
      it('lists every node\'s sockets with the node id, and counts them in the stats', async () => {
        cluster = await startCluster(kind, [], shared);
        const { a, b, c } = cluster.nodes;
        const auth = await login(a.url);
        await eventually(() => c.node.sessions.get(auth.session) !== undefined, 'replication');
        sockets.push(await openSocket(a.wsUrl, auth, '/ws/a', { connection: 'ca' }));
        sockets.push(await openSocket(b.wsUrl, auth, '/ws/b', { connection: 'cb' }));
        sockets.push(await openSocket(c.wsUrl, auth, '/ws/c', { connection: 'cc' }));
        await registrySettled(cluster, 1, 3, 3);
        const rows = (await admin(b.url, 'GET', '/api/admin/sockets?scope=cluster&contextId=1&userId=3')).body;
        expect(rows.map((r: { node: string; connectionId: string }) => `${r.node}:${r.connectionId}`).sort()).to.deep.equal(['a:ca', 'b:cb', 'c:cc']);
        expect((await admin(b.url, 'GET', '/api/admin/sockets')).body).to.have.length(1);
        const stats = (await admin(c.url, 'GET', '/api/admin/stats')).body;
        expect(stats.nodes).to.equal(3);
        expect(stats.sockets).to.deep.include({ local: 1, cluster: 3 });
        expect(a.node.service.exists(1, 3, '/ws/c')).to.equal(true);
        expect(a.node.service.exists(1, 3, '/ws/d')).to.equal(false);
      });

      it('closes the user\'s sockets on every node with 4403 from one DELETE', async () => {
        cluster = await startCluster(kind, [], shared);
        const { a, b, c } = cluster.nodes;
        const auth = await login(a.url);
        await eventually(() => c.node.sessions.get(auth.session) !== undefined, 'replication');
        const s = [await openSocket(a.wsUrl, auth, '/ws/p'), await openSocket(b.wsUrl, auth, '/ws/p'), await openSocket(c.wsUrl, auth, '/ws/q')];
        sockets.push(...s);
        await registrySettled(cluster, 1, 3, 3);
        const res = await admin(b.url, 'DELETE', '/api/admin/sockets?contextId=1&userId=3&pathFilter=/ws/p');
        expect(res.body).to.deep.equal({ closed: 2 });
        expect(await s[0].closedWith()).to.equal(4403);
        expect(await s[1].closedWith()).to.equal(4403);
        await registrySettled(cluster, 1, 3, 1);
        expect(s[2].closeCode).to.equal(undefined);
      });

      it('counts the per-user limit and connection ids over every node', async () => {
        cluster = await startCluster(kind, ['--websockets.maxSocketsPerUser', '2'], shared);
        const { a, b, c } = cluster.nodes;
        const auth = await login(a.url);
        await eventually(() => c.node.sessions.get(auth.session) !== undefined, 'replication');
        sockets.push(await openSocket(a.wsUrl, auth, '/ws/1', { connection: 'one' }));
        await registrySettled(cluster, 1, 3, 1);
        const inUse = await openSocket(b.wsUrl, auth, '/ws/2', { connection: 'one' }).catch((e) => e);
        expect(inUse.status).to.equal(400);
        expect(inUse.body.error).to.equal('ERR_CONNECTION_ID_IN_USE');
        sockets.push(await openSocket(b.wsUrl, auth, '/ws/2', { connection: 'two' }));
        await registrySettled(cluster, 1, 3, 2);
        const third = await openSocket(c.wsUrl, auth, '/ws/3').catch((e) => e);
        expect(third.status).to.equal(429);
      });
    });
  });
}
