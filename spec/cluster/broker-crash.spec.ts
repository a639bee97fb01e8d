/**
 * Zero loss through a broker crash (docs/reliability.md). Three node processes, a
 * socket of alice on each; a stream of 10,000 numbered pushes, spread over the three
 * nodes; the broker killed with SIGKILL 5 times at random moments of the stream (a
 * seeded, printed schedule) and started again. Every push answered 202 must reach
 * every socket exactly once: checked number by number on each socket. A push refused
 * while the broker is away (503) is sent again, as a client would.
 *
 * The brokers: Mosquitto with the project's mosquitto.conf (persistence on, autosave
 * every 60 s: it acknowledges messages it has not saved), Mosquitto with persistence
 * off (a restart forgets everything, sessions included), and the 3-server NATS
 * cluster (one server killed at a time, the nodes fail over to the others).
 */
import { expect } from 'chai';
import { admin, eventually, login, openSocket, push, type TestSocket } from '../support/client.ts';
import { findBinary, requireBinary } from '../support/binaries.ts';
import { hasMosquitto, killAllBrokers, MOSQUITTO_NODE_PASSWORD, MOSQUITTO_NODE_USER, startMosquitto, type BrokerProcess } from '../support/broker.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats.ts';
import { killAll, startNodeProcess, type NodeProcess } from '../support/process.ts';
import { seeded } from '../support/random.ts';

const ALICE = { contextId: 1, userId: 3 };
const PUSHES = Number(process.env.WSMESH_CRASH_PUSHES ?? 10_000);
const KILLS = Number(process.env.WSMESH_CRASH_KILLS ?? 5);
const IN_FLIGHT = 8;

interface Counters {
  counters: { messages: { dropped: Record<string, number> }; remote: { sent: number; received: number } };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type Kind = 'mosquitto' | 'mosquitto-volatile' | 'nats';

describe('zero loss through a broker crash: 5 SIGKILLs during a 10,000-push stream across 3 nodes', function () {
  this.timeout(400_000);
  let nodes: NodeProcess[] = [];
  let sockets: TestSocket[] = [];
  let nats: NatsCluster | undefined;

  afterEach(async () => {
    for (const s of sockets) s.close();
    sockets = [];
    await killAll();
    nodes = [];
    await nats?.stop();
    nats = undefined;
    await killAllBrokers();
  });

  for (const kind of ['mosquitto', 'mosquitto-volatile', 'nats'] as Kind[]) {
    const title =
      kind === 'mosquitto'
        ? 'on Mosquitto with persistence on (autosave 60 s)'
        : kind === 'mosquitto-volatile'
          ? 'on Mosquitto with persistence off'
          : 'on the 3-server NATS cluster, one server killed at a time';
    it(`${title}: every push answered 202 reaches every socket once`, async function () {
      if (kind === 'nats' ? !findBinary('nats-server') : !hasMosquitto()) {
        requireBinary(kind === 'nats' ? 'nats-server' : 'mosquitto');
        this.skip();
      }
      const seed = Number(process.env.WSMESH_CRASH_SEED ?? Date.now() % 100_000);
      const random = seeded(seed);
      let broker: BrokerProcess | undefined;
      let urls: string[];
      const credentials = ['--cluster.username', MOSQUITTO_NODE_USER, '--cluster.password', MOSQUITTO_NODE_PASSWORD];
      let nodeFlags: (i: number) => string[];
      if (kind === 'nats') {
        nats = await startNatsCluster();
        const cluster = nats;
        urls = [0, 1, 2].map((i) => cluster.brokerSetting(i));
        nodeFlags = (i) => ['--cluster.username', cluster.servers[i].username!, '--cluster.password', cluster.servers[i].password!, '--cluster.syncTimeout', '5000', '--cluster.fastPath', 'true', '--mqtt.ingressQos', '0'];
      } else {
        broker = await startMosquitto({ persistence: kind === 'mosquitto' });
        urls = [broker.url, broker.url, broker.url];
        nodeFlags = () => credentials;
      }
      const ids = ['a', 'b', 'c'];
      nodes = await Promise.all(
        ids.map((id, i) =>
          startNodeProcess([
            '--node-id', id, '--route', id.toUpperCase(), '--broker', urls[i], '--cluster.name', 'wsmesh', '--cluster.keepalive', kind === 'nats' ? '10' : '2',
            '--session.keys', 'crash-signing-key', '--websockets.remote.delayDuration', '0', ...nodeFlags(i),
          ]),
        ),
      );
      const stats = async (n: NodeProcess): Promise<Counters & { nodes: number }> => (await admin(n.url, 'GET', '/api/admin/stats')).body;
      await eventually(async () => (await Promise.all(nodes.map(stats))).every((s) => s.nodes === 3), 'three nodes to count three', 60_000);
      const auth = await login(nodes[0].url);
      for (const [i, n] of nodes.entries()) {
        await eventually(async () => (await fetch(`${n.url}/api/session?session=${auth.session}`, { headers: { cookie: auth.cookie } })).status === 200, `the session on ${ids[i]}`, 10_000);
        sockets.push(await openSocket(`ws://127.0.0.1:${n.port}`, auth, '/ws/crash', { connection: `on-${ids[i]}` }));
      }
      // Every node lists the three sockets: each knows whom its pushes are for.
      await eventually(async () => (await Promise.all(nodes.map(async (n) => (await admin(n.url, 'GET', `/api/admin/sockets?scope=cluster&contextId=1&userId=3`)).body.length))).every((c) => c === 3), 'every node to list three sockets', 20_000);

      // The kill schedule: 5 push numbers, spread over the middle of the stream.
      const killAt = Array.from({ length: KILLS }, (_, k) => Math.floor(PUSHES * (0.1 + (0.8 * k) / KILLS + random.next() * (0.8 / KILLS) * 0.8)));
      const downFor = killAt.map(() => 300 + Math.floor(random.next() * 1700));
      const victims = killAt.map(() => Math.floor(random.next() * 3));
      console.log(`      ${kind}: seed ${seed}; kills at pushes ${killAt.join(', ')}; down for ${downFor.join(', ')} ms${kind === 'nats' ? `; servers ${victims.map((v) => `nats-${v + 1}`).join(', ')}` : ''}`);

      let next = 0;
      let refused = 0;
      let killed = 0;
      let done = false;
      // One crash after the other: each waits for its push number and for the previous restart.
      const crashes = (async () => {
        for (let k = 0; k < KILLS; k++) {
          while (next < killAt[k] && !done) await sleep(5);
          const target = kind === 'nats' ? nats!.servers[victims[k]] : broker!;
          await target.stop('SIGKILL');
          killed++;
          await sleep(downFor[k]);
          await target.restart();
        }
      })();
      // No client id: a push refused with a status was not accepted, so sending it again
      // cannot repeat it; a request that failed without an answer is ambiguous, and fails the test.
      const pushOne = async (n: number) => {
        const node = nodes[n % 3];
        for (let attempt = 0; ; attempt++) {
          const res = await push(node.url, { ...ALICE, message: String(n) });
          if (res.status === 202) return;
          refused++;
          if (attempt > 200) throw new Error(`push ${n} not accepted after 200 tries: ${res.status} ${JSON.stringify(res.body)}`);
          await sleep(100);
        }
      };
      const worker = async () => {
        while (next < PUSHES) {
          const n = next++;
          await pushOne(n);
        }
      };
      const started = Date.now();
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      done = true;
      await crashes;
      const pushedIn = Date.now() - started;

      // Wait for every socket to hold every number (the resends after the last restart take a few seconds).
      const distinct = (s: TestSocket) => new Set(s.frames).size;
      await eventually(() => sockets.every((s) => distinct(s) >= PUSHES), 'every socket to receive every number', 90_000).catch(() => undefined);
      await sleep(1000); // a late repeat would arrive in this time
      const after = await Promise.all(nodes.map(stats));
      const resent = after.reduce((sum, s) => sum + (s.counters.remote.sent ?? 0), 0);
      const unconfirmed = after.reduce((sum, s) => sum + (s.counters.messages.dropped.unconfirmed ?? 0), 0);
      const report = sockets.map((s, i) => {
        const seen = new Map<string, number>();
        for (const f of s.frames) seen.set(f, (seen.get(f) ?? 0) + 1);
        let missing = 0;
        for (let n = 0; n < PUSHES; n++) if (!seen.has(String(n))) missing++;
        const duplicated = [...seen.values()].filter((c) => c > 1).length;
        return { socket: ids[i], frames: s.frames.length, missing, duplicated };
      });
      const receipts = await Promise.all(nodes.map(async (n) => (await (await fetch(`${n.url}/metrics`, { headers: { authorization: 'Bearer test-admin-token' } })).text()).match(/^wsmesh_cluster_deliveries_resent_total (\d+)/m)?.[1] ?? '?'));
      console.log(
        `      ${kind}: ${PUSHES} pushes accepted in ${pushedIn} ms (${refused} refused tries, sent again); ${killed} kills; ` +
          report.map((r) => `on ${r.socket}: ${r.frames} frames, ${r.missing} missing, ${r.duplicated} duplicated`).join('; ') +
          `; deliveries resent for want of a receipt: ${receipts.join('/')}; unconfirmed ${unconfirmed}; messages sent to other nodes ${resent}`,
      );
      expect(killed).to.equal(KILLS);
      for (const r of report) expect(r, `socket on ${r.socket}`).to.include({ missing: 0, duplicated: 0 });
      expect(unconfirmed).to.equal(0);
    });
  }
});
