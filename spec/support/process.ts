/**
 * Runs `src/main.ts` as a real child process (the way `npm start` does) and reads its
 * JSON log lines. Every process started is killed in `killAll()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { ChildSet, collectLines } from './children.ts';

const children = new ChildSet();

/**
 * Ports below Linux's ephemeral range (32768-60999): a port the kernel handed out
 * with listen(0) is ephemeral, and an outgoing connection (a NATS route, a client)
 * may take it before the server that was meant to listen on it binds it.
 */
const PORT_LOW = 20000;
const PORT_HIGH = 32767;

/** A port nothing listens on now, outside the ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW + 1));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${PORT_LOW}-${PORT_HIGH} after 100 tries: is something holding that range?`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface NodeProcess {
  child: ChildProcess;
  port: number;
  url: string;
  stdout: string[];
  /** Parsed JSON log lines (stderr). */
  logs: Array<Record<string, unknown>>;
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export function runNode(args: string[], env: Record<string, string> = {}): NodeProcess {
  const child = children.track(
    spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const result: NodeProcess = {
    child,
    port: 0,
    url: '',
    stdout: [],
    logs: [],
    stderr: [],
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    waitForLog(predicate, what, timeoutMs = 10000) {
      return new Promise((resolve, reject) => {
        const found = result.logs.find(predicate);
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error(`timed out waiting for log ${what}; stderr:\n${result.stderr.join('\n')}`)), timeoutMs);
        const onLine = () => {
          const line = result.logs.find(predicate);
          if (!line) return;
          clearTimeout(timer);
          child.stderr!.off('data', onLine);
          resolve(line);
        };
        child.stderr!.on('data', () => setImmediate(onLine));
      });
    },
  };
  collectLines(child.stdout!, (line) => result.stdout.push(line));
  collectLines(child.stderr!, (line) => {
    result.stderr.push(line);
    try {
      result.logs.push(JSON.parse(line));
    } catch {
      // not a log line (e.g. the exit-2 message)
    }
  });
  return result;
}

/** Starts a node on a free port (or `options.port`, e.g. to restart a node where it was) and waits until it listens. */
export async function startNodeProcess(args: string[] = [], env: Record<string, string> = {}, options: { port?: number } = {}): Promise<NodeProcess> {
  const port = options.port ?? (await freePort());
  // Each node gets its own embedded broker port unless the test names a broker.
  const broker = args.some((a) => a.startsWith('--broker')) ? [] : ['--broker-port', String(await freePort())];
  const proc = runNode(['--host', '127.0.0.1', '--port', String(port), ...broker, ...args], { WSMESH_ADMIN_TOKEN: 'test-admin-token', ...env });
  await Promise.race([
    proc.waitForLog((l) => l.event === 'node.started', 'node.started'),
    proc.exited.then(({ code }) => {
      throw new Error(`node exited with ${code} before listening:\n${proc.stderr.join('\n')}`);
    }),
  ]);
  proc.port = port;
  proc.url = `http://127.0.0.1:${port}`;
  return proc;
}

/** Kills (SIGKILL) every node process still running. */
export async function killAll(): Promise<void> {
  await children.stopAll('SIGKILL');
}
