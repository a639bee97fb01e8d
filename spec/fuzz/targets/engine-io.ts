/**
 * Target `engine-io`: Engine.IO v3 and v4 and Socket.IO packets on `/socket.io/...`,
 * over both transports a client may try: the websocket transport (authenticated
 * sockets, packets mutated from the grammar of docs/protocol.md: Engine.IO type,
 * Socket.IO type, namespace, ack id, JSON payload, binary frames), and long-polling
 * HTTP requests (payloads framed as v3 `<len>:<packet>` or v4 `\x1e`-separated),
 * which wsmesh answers with Engine.IO's own error body. The node runs with history
 * on, so a v4 CONNECT's recovery payload (`{pid,offset}`) is parsed too.
 */
import { request } from 'node:http';
import type { Random } from '../../support/random.ts';
import type { FuzzInput, FuzzTarget, Verdict } from '../support/engine.ts';
import { mutateBytes, mutatedJsonText, oddString, randomBytes, randomText } from '../support/mutate.ts';
import { judgeHttp } from '../support/oracle.ts';
import { encodeFrame, OPCODES } from '../support/raw-ws.ts';
import { startFuzzNode, type FuzzNode } from '../support/standalone.ts';
import { playFrames } from './ws-frames.ts';

const PATH = '/socket.io/appsuite/';
const ENGINE_TYPES = ['0', '1', '2', '3', '4', '5', '6', '7', '9', 'x', ''];
const SOCKET_TYPES = ['0', '1', '2', '3', '4', '5', '6', '7', 'a', ''];
const SAMPLE_EVENTS: unknown[] = [['message', 'hi'], ['chat', { to: 1, text: 'x' }], [], ['connect'], [1, 2], { pid: 'p', offset: '1-0' }, 'text'];

/** One packet: Engine.IO type, then (for a MESSAGE) Socket.IO type, attachments, namespace, ack id, payload. */
function packet(rng: Random): string {
  const engine = rng.next() < 0.7 ? '4' : rng.pick(ENGINE_TYPES);
  if (engine !== '4') return engine + (rng.next() < 0.5 ? rng.pick(['probe', '', oddString(rng, 200)]) : '');
  const socket = rng.next() < 0.6 ? rng.pick(['0', '2']) : rng.pick(SOCKET_TYPES);
  const attachments = rng.next() < 0.1 ? `${rng.pick(['1', '0', '99999999999999999999', ''])}-` : '';
  const nsp = rng.next() < 0.2 ? `${rng.pick(['/', '/admin', '/admin?session=x', '//', '/' + oddString(rng, 300)])}${rng.pick([',', ''])}` : '';
  const ack = rng.next() < 0.2 ? rng.pick(['0', '1', '42', '9007199254740993', '1'.repeat(400), '-1']) : '';
  const payload = rng.next() < 0.85 ? mutatedJsonText(rng, rng.pick(SAMPLE_EVENTS), 70_000).toString('latin1') : randomText(rng, 20);
  return `${engine}${socket}${attachments}${nsp}${ack}${payload}`;
}

function wsInput(rng: Random): FuzzInput {
  const version = rng.pick(['3', '4']);
  const parts: Buffer[] = [];
  // Usually a well-formed CONNECT first, so the packets after it reach the event decoder.
  if (version === '4' && rng.next() < 0.7) parts.push(encodeFrame({ opcode: OPCODES.text, payload: Buffer.from(rng.next() < 0.5 ? '40' : `40${mutatedJsonText(rng, { pid: 'x', offset: '1' })}`) }));
  for (let i = 1 + rng.int(4); i > 0; i--) {
    const binary = rng.next() < 0.08;
    let payload: Buffer = binary ? Buffer.concat([Buffer.from([4]), randomBytes(rng, 20)]) : Buffer.from(packet(rng));
    if (rng.next() < 0.15) payload = mutateBytes(rng, payload);
    parts.push(encodeFrame({ opcode: binary ? OPCODES.binary : OPCODES.text, payload }));
  }
  return { meta: { transport: 'websocket', path: PATH, query: `&EIO=${version}&transport=websocket` }, parts };
}

/** A long-polling request: v3 framing `<length>:<packet>`, v4 packets joined by the record separator. */
function pollingInput(rng: Random): FuzzInput {
  const version = rng.pick(['3', '4', '5', '']);
  const packets = Array.from({ length: 1 + rng.int(3) }, () => packet(rng));
  let body = version === '3' ? packets.map((p) => `${rng.next() < 0.8 ? p.length : rng.pick(['-1', '99999', 'x', ''])}:${p}`).join('') : packets.join('\x1e');
  if (rng.next() < 0.2) body = mutateBytes(rng, Buffer.from(body)).toString('latin1');
  const query = new URLSearchParams({ EIO: version, transport: rng.pick(['polling', 'websocket', 'flashsocket', '']), t: randomText(rng, 8) });
  if (rng.next() < 0.5) query.set('sid', rng.pick(['', 'AAAA', oddString(rng, 5000)]));
  return { meta: { transport: 'polling', method: rng.pick(['GET', 'POST', 'POST', 'OPTIONS', 'PUT']), path: `${rng.pick([PATH, '/socket.io/', '/socket.io/appsuite'])}?${query}` }, parts: [Buffer.from(body, 'latin1')] };
}

/** One HTTP request as Node's client sends it; the answer's first 64 KiB. */
export function httpCall(port: number, method: string, path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: Buffer; contentType?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: { ...headers, 'content-length': String(body.length) }, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), contentType: res.headers['content-type'] });
      // A stream (the inspector's events) never ends: its first bytes are the answer.
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.destroy();
        return done();
      }
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= 1 << 16) chunks.push(chunk);
      });
      res.on('end', done);
      res.on('error', done);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path.slice(0, 80)} within 5 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function sendPolling(node: FuzzNode, input: FuzzInput): Promise<Verdict> {
  const headers = { cookie: node.auth.cookie, 'content-type': 'text/plain;charset=UTF-8' };
  try {
    const answer = await httpCall(node.port, input.meta.method, input.meta.path, headers, Buffer.concat(input.parts));
    const verdict = judgeHttp(answer, { engineIoPath: true });
    return { answer: `polling ${verdict.label}`, problem: verdict.problem };
  } catch (error) {
    return { answer: 'polling no answer', problem: (error as Error).message };
  }
}

export const engineIo: FuzzTarget = {
  name: 'engine-io',
  summary: 'Engine.IO v3/v4 and Socket.IO packets on /socket.io (websocket and polling)',
  counts: { test: 150, run: 3000 },
  async start() {
    const node = await startFuzzNode(['--websockets.history.size', '8']);
    return {
      generate: (rng) => (rng.next() < 0.7 ? wsInput(rng) : pollingInput(rng)),
      send: async (input) => {
        if (input.meta.transport === 'polling') return sendPolling(node, input);
        const verdict = await playFrames(node, input, input.meta.query);
        return { ...verdict, answer: `ws ${verdict.answer}` };
      },
      alive: node.alive,
      settle: node.settle,
      stop: node.stop,
    };
  },
};
