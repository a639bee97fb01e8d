/**
 * Network faults between a node and the broker (docs/reliability.md). Three node
 * processes on Mosquitto (the project's mosquitto.conf), each through its own fault
 * proxy (spec/support/fault-proxy.ts), so one node can be cut, black-holed or slowed
 * while the others stay connected. Alice has a socket on each node. Every count is
 * printed and checked number by number.
 */
import { expect } from 'chai';
import { admin, eventually, login, openSocket, push, type Login, type TestSocket } from '../support/client.ts';
import { requireBinary } from '../support/binaries.ts';
import { hasMosquitto, killAllBrokers, MOSQUITTO_NODE_PASSWORD, MOSQUITTO_NODE_USER, startMosquitto, type BrokerProcess } from '../support/broker.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { killAll, startNodeProcess, type NodeProcess } from '../support/process.ts';

const ALICE = { contextId: 1, userId: 3 };
const KEEPALIVE_S = 2;
const IDS = ['a', 'b', 'c'] as const;

interface Stats {
  nodes: number;
  counters: { messages: { dropped: Record<string, number> } };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function stats(node: NodeProcess): Promise<Stats> {
  return (await admin(node.url, 'GET', '/api/admin/stats')).body;
}

/** Node ids of alice's sockets in `node`'s cluster-wide listing, sorted. */
async function aliceNodes(node: NodeProcess): Promise<string[]> {
  const rows: Array<{ node: string }> = (await admin(node.url, 'GET', `/api/admin/sockets?scope=cluster&contextId=${ALICE.contextId}&userId=${ALICE.userId}`)).body;
  return rows.map((r) => r.node).sort();
}

/** How many of `numbers` the socket holds, how many it misses, and how many came twice. */
function tally(socket: TestSocket, numbers: string[]): { got: number; missing: string[]; duplicated: number } {
  const seen = new Map<string, number>();
  for (const f of socket.frames) seen.set(f, (seen.get(f) ?? 0) + 1);
  return { got: numbers.filter((n) => seen.has(n)).length, missing: numbers.filter((n) => !seen.has(n)), duplicated: numbers.filter((n) => (seen.get(n) ?? 0) > 1).length };
}

describe('network faults between a node and the broker (fault proxy, real processes)', function () {
  this.timeout(120_000);
  let broker: BrokerProcess;
  let proxies: FaultProxy[] = [];
  let nodes: NodeProcess[] = [];
  let sockets: TestSocket[] = [];
  let auth: Login;

  before(function () {
    if (!hasMosquitto()) {
      requireBinary('mosquitto');
      this.skip();
    }
  });

  beforeEach(async () => {
    broker = await startMosquitto();
    proxies = await Promise.all(IDS.map(() => new FaultProxy(broker.port).listen()));
    const credentials = ['--cluster.username', MOSQUITTO_NODE_USER, '--cluster.password', MOSQUITTO_NODE_PASSWORD];
    nodes = await Promise.all(
      IDS.map((id, i) =>
        startNodeProcess([
          '--node-id', id, '--route', id.toUpperCase(), '--broker', proxies[i].url, '--cluster.name', 'wsmesh', '--cluster.keepalive', String(KEEPALIVE_S),
          '--session.keys', 'network-faults-key', '--websockets.remote.delayDuration', '0', ...credentials,
        ]),
      ),
    );
    await eventually(async () => (await Promise.all(nodes.map(stats))).every((s) => s.nodes === 3), 'three nodes to count three', 10_000);
    auth = await login(nodes[0].url);
    for (const [i, n] of nodes.entries()) {
      await eventually(async () => (await fetch(`${n.url}/api/session?session=${auth.session}`, { headers: { cookie: auth.cookie } })).status === 200, `the session on ${IDS[i]}`, 5000);
      sockets.push(await openSocket(`ws://127.0.0.1:${n.port}`, auth, '/ws/faults', { connection: `on-${IDS[i]}` }));
    }
    await eventually(async () => (await Promise.all(nodes.map(aliceNodes))).every((r) => r.join() === 'a,b,c'), 'every node to list alice on a, b and c', 5000);
  });

  afterEach(async () => {
    for (const s of sockets) s.close();
    sockets = [];
    await killAll();
    nodes = [];
    await Promise.all(proxies.map((p) => p.close()));
    proxies = [];
    await killAllBrokers();
  });

  it('a node black-holed for longer than cluster.keepalive leaves the others’ registry and serves its sockets locally; back, it is announced again and gets every push accepted meanwhile', async () => {
    const [a, b, c] = nodes;
    const [onA, onB, onC] = sockets;
    const cutAt = Date.now();
    proxies[2].blackhole();
    // Mosquitto declares c dead after 1.5 x keepalive; its Will tells a and b.
    await eventually(async () => (await aliceNodes(a)).join() === 'a,b' && (await aliceNodes(b)).join() === 'a,b', 'a and b to drop c from the registry', 15_000);
    const droppedIn = Date.now() - cutAt;

    // c's sockets keep working locally: a push on c reaches its socket now.
    const fromC = Array.from({ length: 5 }, (_, i) => `c-${i}`);
    for (const m of fromC) expect((await push(c.url, { ...ALICE, message: m })).status, `push ${m} on c, cut off`).to.equal(202);
    await onC.nextFrames(fromC.length, 3000);
    const localOnC = tally(onC, fromC).got;

    // Pushes accepted on a and b while c is away, for alice (who has a socket on c).
    const meanwhile = Array.from({ length: 60 }, (_, i) => `ab-${i}`);
    for (const [i, m] of meanwhile.entries()) expect((await push((i % 2 ? b : a).url, { ...ALICE, message: m })).status).to.equal(202);
    await sleep(KEEPALIVE_S * 1000);

    const healedAt = Date.now();
    proxies[2].heal();
    await eventually(async () => (await Promise.all(nodes.map(aliceNodes))).every((r) => r.join() === 'a,b,c'), 'every node to list c again', 20_000);
    const announcedIn = Date.now() - healedAt;
    await eventually(() => tally(onC, meanwhile).got === meanwhile.length, 'c to get what was pushed meanwhile', 15_000).catch(() => undefined);
    await eventually(() => tally(onA, fromC).got === fromC.length && tally(onB, fromC).got === fromC.length, 'a and b to get what c accepted', 15_000).catch(() => undefined);
    await sleep(500);
    const deliveredIn = Date.now() - healedAt;

    const all = [...meanwhile, ...fromC];
    const counts = { a: tally(onA, all), b: tally(onB, all), c: tally(onC, all) };
    const dropped = (await Promise.all(nodes.map(stats))).map((s) => s.counters.messages.dropped.unconfirmed ?? 0);
    console.log(
      `      black hole: c left the registry of a and b in ${droppedIn} ms; ${localOnC} of ${fromC.length} pushes on c reached its socket while cut off; ` +
        `back: listed again in ${announcedIn} ms; within ${deliveredIn} ms: ` +
        IDS.map((id) => `on ${id}: ${counts[id].got} of ${all.length}, ${counts[id].missing.length} missing, ${counts[id].duplicated} duplicated`).join('; ') +
        `; counted unconfirmed on a/b/c: ${dropped.join('/')}`,
    );
    expect(localOnC).to.equal(fromC.length);
    // Delivered, or counted as dropped: never lost in silence. Here every one is delivered.
    for (const id of IDS) expect(counts[id], `on ${id}`).to.deep.include({ got: all.length, duplicated: 0 });
    expect(dropped).to.deep.equal([0, 0, 0]);
  });

  it('connections cut 5 times during a 600-push stream: every push reaches every socket once', async () => {
    const numbers = Array.from({ length: 600 }, (_, i) => String(i));
    let cuts = 0;
    for (const [i, m] of numbers.entries()) {
      expect((await push(nodes[i % 3].url, { ...ALICE, message: m })).status).to.equal(202);
      if (i % 100 === 50) {
        proxies[(cuts % 3)].cut();
        cuts++;
      }
    }
    await eventually(() => sockets.every((s) => tally(s, numbers).got === numbers.length), 'every socket to get every number', 20_000).catch(() => undefined);
    await sleep(500);
    const counts = sockets.map((s) => tally(s, numbers));
    console.log(`      cuts: ${cuts} resets (of a, b, c in turn); ` + IDS.map((id, i) => `on ${id}: ${counts[i].got} of 600, ${counts[i].missing.length} missing, ${counts[i].duplicated} duplicated`).join('; '));
    for (const [i, id] of IDS.entries()) expect(counts[i], `on ${id}`).to.deep.include({ got: numbers.length, duplicated: 0 });
  });

  it('with 200 ms added each way between every node and the broker, read-your-writes and delivery still hold', async () => {
    for (const p of proxies) p.latency(200);
    const [a, b] = nodes;
    let refused = 0;
    let lost = 0;
    let duplicated = 0;
    const CYCLES = 15;
    for (let i = 0; i < CYCLES; i++) {
      const fresh = await login(a.url);
      let socket: TestSocket;
      try {
        socket = await openSocket(`ws://127.0.0.1:${b.port}`, fresh, '/ws/latency', { connection: `l${i}` });
      } catch {
        refused++;
        continue;
      }
      const text = `l-${i}`;
      expect((await push(a.url, { contextId: fresh.contextId, userId: fresh.userId, message: text })).status).to.equal(202);
      await socket.nextFrames(1, 5000).catch(() => lost++);
      await sleep(50);
      if (socket.frames.length > 1) duplicated++;
      socket.close();
      await fetch(`${a.url}/api/logout`, { method: 'POST', headers: { cookie: fresh.cookie } });
    }
    let acceptedAfterLogout = 0;
    for (let i = 0; i < 10; i++) {
      const fresh = await login(a.url);
      expect((await fetch(`${a.url}/api/logout?session=${fresh.session}`, { method: 'POST', headers: { cookie: fresh.cookie } })).status).to.equal(204);
      if ((await fetch(`${b.url}/api/session?session=${fresh.session}`, { headers: { cookie: fresh.cookie } })).status !== 403) acceptedAfterLogout++;
    }
    const numbers = Array.from({ length: 300 }, (_, i) => `n${i}`);
    await Promise.all(numbers.map((m, i) => push(nodes[i % 3].url, { ...ALICE, message: m })));
    await eventually(() => sockets.every((s) => tally(s, numbers).got === numbers.length), 'every socket to get every number', 20_000).catch(() => undefined);
    await sleep(500);
    const counts = sockets.map((s) => tally(s, numbers));
    console.log(
      `      200 ms: ${CYCLES} cycles of login on a, open on b, push on a: ${refused} refused, ${lost} lost, ${duplicated} duplicated; 10 logouts: ${acceptedAfterLogout} accepted after; ` +
        IDS.map((id, i) => `on ${id}: ${counts[i].got} of 300, ${counts[i].duplicated} duplicated`).join('; '),
    );
    expect({ refused, lost, duplicated, acceptedAfterLogout }).to.deep.equal({ refused: 0, lost: 0, duplicated: 0, acceptedAfterLogout: 0 });
    for (const [i, id] of IDS.entries()) expect(counts[i], `on ${id}`).to.deep.include({ got: numbers.length, duplicated: 0 });
  });
});
