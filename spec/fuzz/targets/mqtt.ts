/**
 * Target `mqtt`: payloads on every topic kind a node subscribes to, published with
 * a real MQTT client to the embedded broker of a 2-node cluster (node a hosts it,
 * node b holds a socket of user 1/3, so b subscribes to that user's delivery and
 * ingress topics too). Internal topics (`<name>/internal/...`) get unsealed junk
 * (random bytes, mutated JSON, empty, overlong), sealed junk (the test knows the
 * cluster key: it is derived from `session.keys`, as every node's here) and bodies
 * sealed for another topic; ingress topics (`<name>/ingress/<ctx>/<user>/...`) get
 * junk from a device account. The oracle: no node logs an error (a handler that
 * threw: `cluster.message_failed`), both answer `/healthz`, and b's socket is open
 * or closed with a documented code.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Random } from '../../support/random.ts';
import { ClusterKey } from '../../../src/cluster/envelope.ts';
import { hashPassword } from '../../../src/directory/password.ts';
import { parseAccounts } from '../../../src/mqtt/accounts.ts';
import { eventually, login, openSocket, type Login, type TestSocket } from '../../support/client.ts';
import { MOSQUITTO_NODE_PASSWORD, MOSQUITTO_NODE_USER } from '../../support/broker.ts';
import { startNode, type TestNode } from '../../support/node.ts';
import { freePort } from '../../support/process.ts';
import type { FuzzInput, FuzzTarget, Verdict } from '../support/engine.ts';
import { mutateBytes, mutatedJsonText, oddString, overlong, randomBytes } from '../support/mutate.ts';
import { healthy, judgeClose, socketsSettled } from '../support/oracle.ts';

const SESSION_KEY = 'test-signing-key'; // spec/support/node.ts gives every node this one
const DEVICE = { username: 'fuzz-device', password: 'fuzz-device-password' };
const now = Date.now();

/** A plausible body per internal topic kind, to mutate. `{N}` in a topic is the cluster name. */
const INTERNAL: Array<[topic: string, sample: unknown]> = [
  ['{N}/internal/presence/ghost', { v: 1, node: 'ghost', epoch: 'e1', route: 'G', state: 'online', since: now }],
  ['{N}/internal/presence/a', { v: 1, node: 'a', epoch: 'e1', route: 'A', state: 'offline', since: now }],
  ['{N}/internal/registry/ghost/e1/1/3', { v: 1, sockets: [{ c: 'ghost-socket', p: '/ws/ghost', a: '10.9.9.9', t: now }] }],
  ['{N}/internal/sessions/0123456789abcdef0123456789abcdef', { v: 1, id: '0123456789abcdef0123456789abcdef', secretHash: 'ab'.repeat(32), contextId: 1, userId: 3, ip: '127.0.0.1', route: 'A', node: 'a', createdAt: now, expiresAt: now + 3_600_000 }],
  ['{N}/internal/sessions/_sync', { v: 1, node: 'a', nonce: 'n1' }],
  ['{N}/internal/sessions/_ended', { v: 1, node: 'a', id: 'x', sessionId: '0123456789abcdef0123456789abcdef' }],
  ['{N}/internal/deliver/1/3', { v: 1, from: 'a', at: now, filter: null, p: [{ i: 'fuzz-1', m: 'fuzzed message' }] }],
  ['{N}/internal/pushes', { v: 1, node: 'a', ids: ['fuzz-1'] }],
  ['{N}/internal/commands', { v: 1, id: 'fuzz-close', from: 'a', at: now, type: 'close', ctx: 1, user: 3, filter: '/nowhere', code: 4403 }],
  ['{N}/internal/history/1/3/0000abcd/0', { v: 1, i: 'fuzz-1', m: 'x', o: 1, at: now }],
  ['{N}/internal/history/1/3/_m/nonce1', { v: 1 }],
  ['{N}/internal/queries', { v: 1, id: 'q1', from: 'a', kind: 'trace', args: { id: 'm-1' } }],
  ['{N}/internal/answers/b', { v: 1, id: 'q1', from: 'a', body: {} }],
  ['{N}/internal/receipts/b', { v: 1, from: 'a', e: 'e1', f: [1, 2, 3] }],
  ['{N}/internal/deliver/1/3', { v: 1, from: 'b', at: now, filter: null, f: 7, e: 'e1', p: [{ i: 'fuzz-2', m: 'numbered' }] }],
];
const INGRESS = ['{N}/ingress/1/3', '{N}/ingress/1/3/ws/fuzz', '{N}/ingress/1/3/ws/*', '{N}/ingress/1/3/*', '{N}/ingress/1/999', '{N}/ingress/0/3', '{N}/ingress/1/3/a/../b', '{N}/ingress/1'];

function topicOf(rng: Random, template: string): string {
  if (rng.next() > 0.15) return template;
  const levels = template.split('/');
  const i = 2 + rng.int(Math.max(1, levels.length - 2));
  levels[i] = oddString(rng, 300).replace(/[+#\u0000]/g, '_');
  return levels.join('/');
}

function payloadFor(rng: Random, sample: unknown): Buffer {
  switch (rng.int(6)) {
    case 0:
      return randomBytes(rng, 64);
    case 1:
      return Buffer.alloc(0);
    case 2:
      return Buffer.from(overlong(rng, 300_000));
    case 3:
      return mutateBytes(rng, Buffer.from(JSON.stringify(sample)));
    default:
      return mutatedJsonText(rng, sample, 100_000);
  }
}

function generate(rng: Random): FuzzInput {
  if (rng.next() < 0.3) {
    const topic = topicOf(rng, rng.pick(INGRESS));
    return { meta: { kind: 'ingress', topic, seal: 'none' }, parts: [payloadFor(rng, 'living room: 21.5 °C')] };
  }
  const [template, sample] = rng.pick(INTERNAL);
  const topic = topicOf(rng, template);
  const seal = rng.pick(['none', 'sealed', 'sealed', 'other-topic']);
  return { meta: { kind: template.split('/')[2], topic, seal }, parts: [payloadFor(rng, sample)] };
}

interface Pair {
  a: TestNode;
  b: TestNode;
  logs: { a: string[]; b: string[] };
  name: string;
  port: number;
}

async function startPair(): Promise<Pair> {
  const port = await freePort();
  const name = `f${Math.random().toString(36).slice(2, 8)}`;
  const password = await hashPassword(DEVICE.password);
  const accounts = parseAccounts(JSON.stringify({ accounts: [{ id: DEVICE.username, kind: 'device', password, context: 1, users: '*' }] }), 'fuzz');
  const common = ['--cluster.name', name, '--cluster.keepalive', '2', '--cluster.username', MOSQUITTO_NODE_USER, '--cluster.password', MOSQUITTO_NODE_PASSWORD, '--websockets.maxSocketsPerUser', '1000', '--websockets.history.size', '4'];
  const logs = { a: [] as string[], b: [] as string[] };
  const a = await startNode(['--node-id', 'a', '--route', 'A', '--broker', 'embedded', '--broker-port', String(port), ...common], { logs: logs.a, accounts });
  try {
    const b = await startNode(['--node-id', 'b', '--route', 'B', '--broker', `mqtt://127.0.0.1:${port}`, ...common], { logs: logs.b });
    await eventually(() => a.node.cluster!.view.liveNodes().length === 1 && b.node.cluster!.view.liveNodes().length === 1, 'a and b to see each other', 5000);
    return { a, b, logs, name, port };
  } catch (error) {
    await a.stop();
    throw error;
  }
}

/** Error-level log lines (a handler threw, a check failed loudly) since `from`. */
function errorsIn(lines: string[], from: number): string[] {
  return lines.slice(from).filter((line) => /"level":"(error|fatal)"/.test(line));
}

export const mqttPayloads: FuzzTarget = {
  name: 'mqtt',
  summary: 'MQTT payloads on every internal topic kind (sealed and unsealed) and on ingress topics, 2 nodes on the embedded broker',
  counts: { test: 200, run: 3000 },
  async start() {
    const pair = await startPair();
    const { key } = ClusterKey.from({ secret: '', sessionKeys: [SESSION_KEY] });
    const options = { protocolVersion: 4 as const, reconnectPeriod: 0, connectTimeout: 5000 };
    const credentials = { node: { username: MOSQUITTO_NODE_USER, password: MOSQUITTO_NODE_PASSWORD }, device: DEVICE };
    const clients: Partial<Record<'node' | 'device', MqttClient>> = {};
    /** A connected client of that account; the broker drops one that publishes what it refuses (too large, a bad topic). */
    async function client(kind: 'node' | 'device'): Promise<MqttClient> {
      const current = clients[kind];
      if (current?.connected) return current;
      current?.end(true);
      return (clients[kind] = await mqtt.connectAsync(`mqtt://127.0.0.1:${pair.port}`, { ...options, ...credentials[kind], clientId: `fuzz-${kind}-${cryptoRandomBytes(4).toString('hex')}` }));
    }
    const auth: Login = await login(pair.b.url);
    let socket: TestSocket = await openSocket(pair.b.wsUrl, auth, '/ws/fuzz');
    const closes: Array<number | undefined> = [];

    async function send(input: FuzzInput): Promise<Verdict> {
      const topic = input.meta.topic.replaceAll('{N}', pair.name);
      const body = Buffer.concat(input.parts);
      let payload: Buffer = body;
      if (input.meta.seal === 'sealed') payload = key.seal(topic, body.toString('utf8'));
      if (input.meta.seal === 'other-topic') payload = key.seal(`${pair.name}/internal/pushes`, body.toString('utf8'));
      const marks = { a: pair.logs.a.length, b: pair.logs.b.length };
      const dropped = { ...Object.fromEntries(pair.b.node.stats.dropped), ...Object.fromEntries([...pair.b.node.stats.ingress.dropped].map(([k, v]) => [`ingress ${k}`, v])) };
      try {
        const publisher = await client(input.meta.kind === 'ingress' ? 'device' : 'node');
        const acked = publisher.publishAsync(topic, payload, { qos: 1 });
        // A broker that drops the connection instead of acknowledging: counted, and the client reconnects.
        let onClose = () => undefined as void;
        const cut = new Promise<'cut'>((resolve) => {
          const timer = setTimeout(() => resolve('cut'), 2000);
          onClose = () => resolve('cut');
          publisher.once('close', onClose);
          void acked.finally(() => clearTimeout(timer)).catch(() => undefined);
        });
        void cut.finally(() => publisher.off('close', onClose));
        void acked.finally(() => publisher.off('close', onClose)).catch(() => undefined);
        if ((await Promise.race([acked, cut])) === 'cut') {
          publisher.end(true);
          return { answer: `${input.meta.kind} ${input.meta.seal}: broker closed the publisher` };
        }
      } catch (error) {
        return { answer: `${input.meta.kind} ${input.meta.seal}: refused by the client (${(error as Error).message.slice(0, 40)})` };
      }
      // The broker acknowledged it; give both nodes a moment to take it in.
      await new Promise((r) => setTimeout(r, 15));
      const after = { ...Object.fromEntries(pair.b.node.stats.dropped), ...Object.fromEntries([...pair.b.node.stats.ingress.dropped].map(([k, v]) => [`ingress ${k}`, v])) };
      const drops = Object.keys(after).filter((k) => after[k] !== (dropped as Record<string, number>)[k]);
      const answer = `${input.meta.kind} ${input.meta.seal}: ${drops.length ? `dropped ${drops.join('+')}` : 'taken or ignored'}`;
      const errors = [...errorsIn(pair.logs.a, marks.a), ...errorsIn(pair.logs.b, marks.b)];
      if (errors.length) return { answer, problem: `a node logged an error: ${errors[0].slice(0, 300)}` };
      if (socket.closeCode !== undefined) {
        // A sealed close command is a node's own word: the socket may close, with a documented code.
        const verdict = judgeClose(socket.closeCode);
        closes.push(socket.closeCode);
        socket = await openSocket(pair.b.wsUrl, auth, '/ws/fuzz');
        if (verdict.problem) return { answer: `${answer}, socket ${verdict.label}`, problem: verdict.problem };
      }
      return { answer };
    }

    return {
      generate,
      send,
      alive: async () => (await healthy(pair.a.url)) && (await healthy(pair.b.url)),
      async settle() {
        socket.close();
        const problems = [...(await socketsSettled(pair.a.url)), ...(await socketsSettled(pair.b.url))];
        if (closes.length) process.stdout.write(`      mqtt: b's socket was closed ${closes.length} times by sealed commands (codes ${[...new Set(closes)].join(', ')})\n`);
        return problems;
      },
      async stop() {
        socket.close();
        for (const c of Object.values(clients)) await c?.endAsync(true).catch(() => undefined);
        await pair.b.stop();
        await pair.a.stop();
      },
    };
  },
};
