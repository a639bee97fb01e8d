/**
 * Target `upgrade`: HTTP/1.1 upgrade requests written on raw TCP, their request
 * line (method, path with `.`/`..`/odd segments, query string), headers (dropped,
 * duplicated, odd values, overlong, CR/LF and NUL injection) and cookies mutated.
 * The oracle: a refusal is a catalogued `{error,message}` (Engine.IO's own body on
 * `/socket.io` without an upgrade); an accepted socket closes with a documented code.
 */
import type { Random } from '../../support/random.ts';
import type { FuzzInput, FuzzTarget, Verdict } from '../support/engine.ts';
import { mutateBytes, oddString, overlong, percentEncode, randomText } from '../support/mutate.ts';
import { judgeClose, judgeHttp } from '../support/oracle.ts';
import { exchange, readBody, sendUpgrade } from '../support/raw-ws.ts';
import { startFuzzNode, type FuzzNode } from '../support/standalone.ts';

const PATHS = ['/ws/fuzz', '/ws', '/ws/', '/ws/a/../b', '/ws/./x', '/ws//x', '/ws/%2e%2e/admin', '/socket.io/appsuite/', '/socket.io/', '/wsx', '/', '/api/push', '*', 'ws/fuzz', 'http://127.0.0.1/ws/fuzz'];
const QUERIES = ['session=SESSION', 'session=SESSION&connection=CONN', 'session=SESSION&connection=CONN&EIO=4&transport=websocket', 'session=SESSION&connection=CONN&EIO=3&transport=websocket', 'session=SESSION&session=x', 'session=', '', 'session=SESSION&connection=a%2Fb', 'session=SESSION&envelope=1&since=1-0', 'session=SESSION&envelope=2'];
const HEADER_NAMES = ['Host', 'Connection', 'Upgrade', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Cookie', 'Origin', 'Sec-WebSocket-Protocol', 'Sec-WebSocket-Extensions', 'X-Forwarded-For', 'X-Forwarded-Proto', 'Content-Length', 'Transfer-Encoding', 'Authorization'];
const ODD_VALUES = ['', ' ', 'websocket, h2c', 'upgrade, keep-alive', '13, 8', '99', 'permessage-deflate; client_max_window_bits=99', 'chunked', '-1', '1.1.1.1, 2.2.2.2', 'https', 'null', 'https://evil.example', 'AAAAAAAAAAAAAAAAAAAAAA==', 'a b', 'x\u0000y'];

function requestLines(rng: Random): string[] {
  const path = rng.next() < 0.8 ? rng.pick(PATHS) : `/ws/${percentEncode(oddString(rng, 9000), /[A-Za-z0-9_.%-]/)}`;
  const query = rng.next() < 0.8 ? rng.pick(QUERIES) : `session=SESSION&${percentEncode(randomText(rng, 5), /[A-Za-z0-9]/)}=${percentEncode(oddString(rng, 9000), /[A-Za-z0-9]/)}`;
  const method = rng.next() < 0.85 ? 'GET' : rng.pick(['POST', 'get', 'CONNECT', 'OPTIONS', 'G\u0000T']);
  const version = rng.next() < 0.9 ? 'HTTP/1.1' : rng.pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', '']);
  const lines = [`${method} ${path}${query ? '?' : ''}${query} ${version}`, 'Host: 127.0.0.1', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', 'Cookie: COOKIE'];
  for (let i = rng.int(4); i > 0; i--) {
    const index = 1 + rng.int(lines.length - 1);
    switch (rng.int(6)) {
      case 0:
        lines.splice(index, 1);
        break;
      case 1:
        lines.push(lines[index]);
        break;
      case 2:
        lines.push(`${rng.pick(HEADER_NAMES)}: ${rng.pick(ODD_VALUES)}`);
        break;
      case 3:
        lines[index] = `${lines[index].split(':')[0]}: ${rng.next() < 0.5 ? rng.pick(ODD_VALUES) : oddString(rng, 9000)}`;
        break;
      case 4:
        lines.push(rng.next() < 0.5 ? `Cookie: ${rng.pick(['wsmesh-secret=x', 'COOKIE; COOKIE', '=;=;', 'a'.repeat(5000) + '=1'])}` : `X-Long: ${overlong(rng, 20_000)}`);
        break;
      default:
        lines[index] = mutateBytes(rng, Buffer.from(lines[index])).toString('latin1');
    }
  }
  return lines;
}

function generate(rng: Random): FuzzInput {
  return { meta: {}, parts: requestLines(rng).map((l) => Buffer.from(l, 'latin1')) };
}

async function send(node: FuzzNode, input: FuzzInput): Promise<Verdict> {
  const text = input.parts
    .map((p) => p.toString('latin1'))
    .join('\r\n')
    .replaceAll('SESSION', node.auth.session)
    .replaceAll('CONN', node.connectionId())
    .replaceAll('COOKIE', node.auth.cookie);
  const answer = await sendUpgrade(node.port, Buffer.from(`${text}\r\n\r\n`, 'latin1'), 1000);
  if (answer.status === -1) {
    answer.socket.destroy();
    return { answer: 'no answer within 1 s (incomplete request)' };
  }
  if (answer.status === 0) return { answer: 'closed without an HTTP answer', problem: 'the node closed the connection without an HTTP answer' };
  if (answer.status === 101) {
    const result = await exchange(answer, [], 800);
    const verdict = judgeClose(result.timedOut ? 1006 : result.closeCode);
    return { answer: `101 then ${verdict.label}`, problem: verdict.problem };
  }
  const body = await readBody(answer);
  answer.socket.destroy();
  const target = /^\S+ (\S+)/.exec(text)?.[1] ?? '';
  const verdict = judgeHttp({ status: answer.status, body }, { engineIoPath: target.startsWith('/socket.io') });
  return { answer: verdict.label, problem: verdict.problem };
}

export const upgrade: FuzzTarget = {
  name: 'upgrade',
  summary: 'HTTP/1.1 upgrade requests on raw TCP: request line, headers, query, cookies, paths',
  counts: { test: 250, run: 4000 },
  async start() {
    const node = await startFuzzNode();
    return { generate, send: (input) => send(node, input), alive: node.alive, settle: node.settle, stop: node.stop };
  },
};
