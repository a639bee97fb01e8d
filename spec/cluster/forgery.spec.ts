/**
 * A broker that is not trusted: a client that can write anywhere under
 * `<name>/internal/` (here: with the nodes' own broker account) but lacks the
 * cluster key tries every forgery a probe of the old design found. Each is
 * dropped and counted as `forged`; nothing reaches a socket, the view or a
 * session. The attacker even knows `session.keys` (it signs a cookie with them):
 * the cluster key here is `cluster.secret`, which it does not have.
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import Keygrip from 'keygrip';
import mqtt, { type MqttClient } from 'mqtt';
import { admin, eventually, login, openSocket, push, type TestSocket } from '../support/client.ts';
import { killAllBrokers, MOSQUITTO_NODE_PASSWORD, MOSQUITTO_NODE_USER } from '../support/broker.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats.ts';
import { BROKER_KINDS, requireBroker, startCluster, type TestCluster } from './support.ts';

const SESSION_KEY = 'test-signing-key'; // spec/support/node.ts gives every node this one

for (const kind of BROKER_KINDS) {
  describe(`forged internal messages on the ${kind} broker`, function () {
    this.timeout(kind === 'nats' ? 90_000 : 30_000);
    let cluster: TestCluster;
    let nats: NatsCluster | undefined;
    let attacker: MqttClient;
    let name: string;
    const sockets: TestSocket[] = [];

    before(async function () {
      requireBroker(this, kind); // a missing binary fails under CI
      if (kind === 'nats') nats = await startNatsCluster();
      cluster = await startCluster(kind, ['--cluster.secret', 'the-cluster-secret', '--websockets.remote.delayDuration', '0'], { nats });
      name = cluster.nodes.a.config.cluster.name;
      // On NATS the attacker writes through server 1 (node a's), with node a's account.
      const url = nats?.servers[0].url ?? cluster.broker?.url ?? `mqtt://127.0.0.1:${cluster.nodes.a.config.cluster.embedded.port}`;
      attacker = await mqtt.connectAsync(url, { username: MOSQUITTO_NODE_USER, password: MOSQUITTO_NODE_PASSWORD, protocolVersion: 4, reconnectPeriod: 0, clientId: 'attacker' });
    });
    afterEach(() => {
      for (const socket of sockets.splice(0)) socket.close();
    });
    after(async () => {
      await attacker?.endAsync(true);
      await cluster?.stop();
      await nats?.stop();
      await killAllBrokers();
    });

    const forged = () => Object.values(cluster.nodes).reduce((sum, n) => sum + (n.node.stats.dropped.get('forged') ?? 0), 0);

    /** Publishes and waits until every node has counted one more forgery than before (or `count` more). */
    async function forge(topic: string, payload: string | Buffer, retain = false, count = 3): Promise<void> {
      const before = forged();
      await attacker.publishAsync(topic, payload, { qos: 1, retain });
      await eventually(() => forged() >= before + count, `${count} nodes to drop the forgery on ${topic}`);
    }

    it('a forged session record opens no socket and answers no API call', async () => {
      const secret = randomBytes(32).toString('base64url');
      const id = randomBytes(16).toString('hex');
      const now = Date.now();
      const record = { v: 1, id, secretHash: createHash('sha256').update(secret).digest('hex'), contextId: 1, userId: 3, ip: '127.0.0.1', route: 'A', node: 'a', createdAt: now, expiresAt: now + 3_600_000 };
      await forge(`${name}/internal/sessions/${id}`, JSON.stringify(record), true);
      const signature = new Keygrip([SESSION_KEY]).sign(`wsmesh-secret=${secret}`);
      const cookie = `wsmesh-secret=${secret}; wsmesh-secret.sig=${signature}`;
      const refusal = await openSocket(cluster.nodes.b.wsUrl, { session: id, cookie }).then(
        () => expect.fail('a forged session opened a socket'),
        (error: { status: number; body: { error: string } }) => error,
      );
      expect(refusal.status).to.equal(403);
      expect(refusal.body.error).to.equal('ERR_SESSION_UNKNOWN');
      const api = await fetch(`${cluster.nodes.c.url}/api/session?session=${id}`, { headers: { cookie } });
      expect(api.status).to.equal(403);
      for (const n of Object.values(cluster.nodes)) expect(n.node.sessions.get(id)).to.equal(undefined);
    });

    it('a forged delivery, an unsealed logout and a forged close command reach no socket', async () => {
      const { a, b } = cluster.nodes;
      const auth = await login(a.url);
      const socket = await openSocket(b.wsUrl, auth, '/ws/forgery');
      sockets.push(socket);
      const delivery = { v: 1, from: 'a', at: Date.now(), filter: null, p: [{ i: 'forged-1', m: 'forged message' }] };
      await forge(`${name}/internal/deliver/${auth.contextId}/${auth.userId}`, JSON.stringify(delivery), false, 1);
      // An empty retained payload on the session's topic once ended it everywhere.
      await attacker.publishAsync(`${name}/internal/sessions/${auth.session}`, Buffer.alloc(0), { qos: 1, retain: true });
      const close = { v: 1, id: 'forged-close', from: 'c', at: Date.now(), type: 'close', ctx: auth.contextId, user: auth.userId, filter: null, code: 4403 };
      await forge(`${name}/internal/commands`, JSON.stringify(close));
      // Sealed messages still flow: a real push arrives, and it is the only frame.
      const real = await push(a.url, { contextId: auth.contextId, userId: auth.userId, message: 'real' });
      expect(real.status).to.equal(202);
      expect(await socket.nextFrames(1)).to.deep.equal(['real']);
      expect(socket.closeCode).to.equal(undefined);
      expect(b.node.sessions.get(auth.session)).to.not.equal(undefined);
      process.stdout.write(`      ${kind}: ${forged()} forged messages dropped and counted so far\n`);
    });

    it('forged presence and registry entries for a fake node add nothing to the view, the listing or the totals', async () => {
      const presence = { v: 1, node: 'ghost', epoch: 'e1', route: 'G', state: 'online', since: Date.now() };
      await forge(`${name}/internal/presence/ghost`, JSON.stringify(presence), true);
      const registry = { v: 1, sockets: [{ c: 'ghost-socket', p: '/ws/ghost', a: '10.9.9.9', t: Date.now() }] };
      await forge(`${name}/internal/registry/ghost/e1/1/3`, JSON.stringify(registry), true);
      // A sealed-looking payload with a wrong MAC is a forgery too.
      await forge(`${name}/internal/presence/ghost2`, `w1.${'A'.repeat(22)}.${JSON.stringify({ ...presence, node: 'ghost2' })}`, true);
      const stats = await admin(cluster.nodes.a.url, 'GET', '/api/admin/stats');
      expect(stats.body.nodes).to.equal(3);
      const rows = await admin(cluster.nodes.b.url, 'GET', '/api/admin/sockets?scope=cluster&contextId=1&userId=3');
      expect(rows.body.map((r: { node: string }) => r.node)).to.not.include('ghost');
      for (const n of Object.values(cluster.nodes)) expect(n.node.cluster!.view.liveNodes().map((l) => l.id)).to.not.include.members(['ghost', 'ghost2']);
      // Clean up the retained forgeries for the next suite on this broker.
      for (const topic of [`${name}/internal/presence/ghost`, `${name}/internal/presence/ghost2`, `${name}/internal/registry/ghost/e1/1/3`]) {
        await attacker.publishAsync(topic, Buffer.alloc(0), { qos: 1, retain: true });
      }
    });
  });
}
