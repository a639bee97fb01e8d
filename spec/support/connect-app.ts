/**
 * A stand-in for the application behind `auth.proxy.url`: a real HTTP server on a loopback
 * port whose first path segment names how it answers (`<url>/good`, `<url>/slow`, ...).
 * It records every request it receives, so a test can check the exact JSON the node sent
 * and whether a cached or redirected ask reached it.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The good user's answer; its expiresAt is fixed so tests can put their fake clock around it. */
export const GOOD_USER = {
  userId: 42,
  contextId: 7,
  sessionId: 'app-session-1',
  expiresAt: 2_000_000_000_000,
  config: { 'websockets.enabled': true, 'websockets.maxSocketsPerUser': 3 },
} as const;

/** A marker in bodies the node must never log. */
export const BODY_SECRET = 'BODY-SECRET-0xC0FFEE';

/** Bytes written before an unending body is held open (over the 64 KiB cap). */
export const ENDLESS_PREFIX_BYTES = 128 * 1024;

export interface ReceivedCall {
  method: string;
  /** The path the node POSTed to (the scenario), with its query. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as received. */
  body: string;
}

export interface ConnectApp {
  /** `http://127.0.0.1:<port>`; append a scenario: `${app.base}/good`. */
  base: string;
  calls: ReceivedCall[];
  /** Resolves when the node hung up on an unending body (it stopped reading). */
  endlessAbandoned: Promise<void>;
  close(): Promise<void>;
}

type Scenario = (res: ServerResponse, app: ConnectAppImpl, rest: string) => void;

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

/** `bad-ids/<name>`: an answer whose userId (or contextId, with `ctx-` before the name) is invalid. */
const BAD_IDS: Record<string, string> = {
  zero: '0',
  negative: '-1',
  string: '"abc"',
  numeric_string: '"42"',
  fraction: '1.5',
  two_pow_60: '1152921504606846976',
  null: 'null',
  missing: '',
};

function badIds(res: ServerResponse, rest: string): void {
  const onContext = rest.startsWith('ctx-');
  const raw = BAD_IDS[onContext ? rest.slice(4) : rest];
  const bad = raw === '' ? '' : `"${onContext ? 'contextId' : 'userId'}": ${raw}, `;
  const good = onContext ? '"userId": 42' : '"contextId": 7';
  json(res, 200, `{${bad}${good}}`);
}

const SCENARIOS: Record<string, Scenario> = {
  good: (res) => json(res, 200, GOOD_USER),
  minimal: (res) => json(res, 200, { userId: 1, contextId: 1 }),
  'iso-expiry': (res) => json(res, 200, { userId: 1, contextId: 1, expiresAt: '2033-05-18T03:33:20.000Z' }),
  expired: (res) => json(res, 200, { userId: 1, contextId: 1, expiresAt: 1_000_000_000_000 }),
  unknown: (res) => json(res, 401, { error: BODY_SECRET }),
  disabled: (res) => json(res, 403, { error: BODY_SECRET }),
  'server-error': (res) => json(res, 500, { error: BODY_SECRET }),
  'busy-retry': (res) => json(res, 503, { error: 'busy' }, { 'retry-after': '30' }),
  'busy-bad-retry': (res) => json(res, 503, { error: 'busy' }, { 'retry-after': 'soon' }),
  'no-content': (res) => {
    res.writeHead(204);
    res.end();
  },
  // Holds the response: the node's timeout must end the ask.
  slow: () => {},
  // Headers at once, then a body that never completes.
  'slow-body': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"userId": 42, ');
  },
  junk: (res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<html>${BODY_SECRET}</html>`);
  },
  'not-utf8': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
  },
  array: (res) => json(res, 200, [GOOD_USER]),
  // 1 MiB announced by content-length.
  huge: (res) => {
    const body = Buffer.alloc(1024 * 1024, 0x20);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
    res.end(body);
  },
  // Chunked, no length: 128 KiB then held open, so only a reader that stops at the cap sees the end of the ask.
  endless: (res, app) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(Buffer.alloc(ENDLESS_PREFIX_BYTES, 0x20));
    res.on('close', () => app.abandon());
  },
  // Exactly at the cap: a valid answer padded with spaces to 64 KiB.
  'at-cap': (res) => {
    const answer = JSON.stringify({ userId: 1, contextId: 1 });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answer + ' '.repeat(64 * 1024 - answer.length));
  },
  'over-cap': (res) => {
    const answer = JSON.stringify({ userId: 1, contextId: 1 });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answer + ' '.repeat(64 * 1024 - answer.length + 1));
  },
  // Redirects to the good user: following it would admit the upgrade.
  redirect: (res, app) => {
    res.writeHead(302, { location: `${app.base}/good` });
    res.end();
  },
  'redirect-307': (res, app) => {
    res.writeHead(307, { location: `${app.base}/good` });
    res.end();
  },
  'bad-ids': (res, _app, rest) => badIds(res, rest),
};

interface ConnectAppImpl extends ConnectApp {
  abandon(): void;
}

/** Starts the application on a free loopback port. */
export async function startConnectApp(): Promise<ConnectApp> {
  let abandon!: () => void;
  const endlessAbandoned = new Promise<void>((resolve) => (abandon = resolve));
  const calls: ReceivedCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      calls.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const [name = '', rest = ''] = (req.url ?? '').split('?')[0].slice(1).split('/');
      const scenario = SCENARIOS[name];
      if (scenario) scenario(res, app, rest);
      else json(res, 404, { error: 'no such scenario' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const app: ConnectAppImpl = {
    base: `http://127.0.0.1:${port}`,
    calls,
    endlessAbandoned,
    abandon,
    close: () =>
      new Promise<void>((resolve) => {
        // Held responses (slow, endless) would keep close() waiting forever.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return app;
}

/** A loopback port nothing listens on: bound, then closed. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
