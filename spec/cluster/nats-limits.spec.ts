/**
 * A broker that refuses a subscription. NATS caps the sum of `max_ack_pending` over
 * one MQTT session's QoS 1 subscriptions at 65535 and answers SUBACK 0x80 past it
 * (config/nats/README.md). With max_ack_pending 8191 a node's main session holds eight:
 * seven for its six fixed filters (presence, registry, pushes, commands, and the
 * cluster's questions and this node's answers; NATS counts a `#` filter twice: `a.>`
 * and `a`) and one user's delivery topic (sessions are on the node's control
 * connection, a session of its own; history reads are QoS 0). A second user's
 * socket on that node must be refused with 503 ERR_DELIVERY_UNAVAILABLE (a socket
 * that opened would silently miss every push from other nodes), the refusal is
 * logged with what to do, the first user's socket keeps working, and once the first
 * user's socket is gone the second user opens and gets pushes from another node.
 */
import { expect } from 'chai';
import { eventually, login, openSocket, push, type TestSocket } from '../support/client.ts';
import { killAllBrokers } from '../support/broker.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats.ts';
import { requireBroker, startCluster, type TestCluster } from './support.ts';

/** floor(65535 / 8191) = 8 subscriptions per session. */
const MAX_ACK_PENDING = 8191;

describe('a NATS broker that refuses a subscription (the per-session max_ack_pending cap)', function () {
  this.timeout(120_000);
  let nats: NatsCluster;
  let cluster: TestCluster;
  const logsOfB: string[] = [];
  const sockets: TestSocket[] = [];

  before(async function () {
    requireBroker(this, 'nats');
    nats = await startNatsCluster({ maxAckPending: MAX_ACK_PENDING });
    // A long keepalive: at the cap, a link that drops while its consumers are being made
    // (slow under load) could not subscribe its topics again, and this test is not about that.
    cluster = await startCluster('nats', ['--websockets.remote.delayDuration', '0', '--cluster.keepalive', '30'], { nats, logs: { b: logsOfB } });
  });
  after(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await cluster?.stop();
    await nats?.stop();
    await killAllBrokers();
  });

  it('refuses the socket with 503 ERR_DELIVERY_UNAVAILABLE, logs why, and keeps the other user whole', async () => {
    const { a, b } = cluster.nodes;
    const alice = await login(a.url);
    const bob = await login(a.url, 'bob@demo', 'builder');
    const aliceOnB = await openSocket(b.wsUrl, alice, '/ws/cap');
    sockets.push(aliceOnB);

    const refusal = await openSocket(b.wsUrl, bob, '/ws/cap').then(
      (socket) => {
        sockets.push(socket);
        return expect.fail("bob's socket opened although the broker refused its subscription");
      },
      (error: { status: number; body: { error: string; message: string } }) => error,
    );
    expect(refusal.status).to.equal(503);
    expect(refusal.body.error).to.equal('ERR_DELIVERY_UNAVAILABLE');
    expect(refusal.body.message).to.be.a('string').and.not.equal('');
    const logged = logsOfB.map((l) => JSON.parse(l)).find((l) => l.event === 'cluster.subscribe_refused');
    expect(logged, 'cluster.subscribe_refused logged on b').to.include({ contextId: bob.contextId, userId: bob.userId });
    expect(logged.hint).to.match(/max_ack_pending/);

    // Alice's socket still gets a push from node a.
    expect((await push(a.url, { contextId: alice.contextId, userId: alice.userId, message: 'to-alice' })).status).to.equal(202);
    expect(await aliceOnB.nextFrames(1, 5000)).to.deep.equal(['to-alice']);

    // Alice leaves; her subscription goes, and bob's next try gets the slot.
    aliceOnB.close();
    let bobOnB: TestSocket | undefined;
    let tries = 0;
    await eventually(
      async () => {
        tries++;
        bobOnB = await openSocket(b.wsUrl, bob, '/ws/cap').catch(() => undefined);
        return bobOnB !== undefined;
      },
      "bob's socket to open once alice's subscription is gone",
      20_000,
    );
    sockets.push(bobOnB!);
    expect((await push(a.url, { contextId: bob.contextId, userId: bob.userId, message: 'to-bob' })).status).to.equal(202);
    expect(await bobOnB!.nextFrames(1, 5000)).to.deep.equal(['to-bob']);
    process.stdout.write(`      refused with ${refusal.status} ${refusal.body.error}; bob opened after alice left, on try ${tries}\n`);
  });
});
