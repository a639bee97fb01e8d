import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { connect, connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { parseBrokerArgs } from '../../src/cli/broker.ts';
import { BrokerListenError, startEmbeddedBroker, type EmbeddedBroker } from '../../src/cluster/embedded-broker.ts';
import { createLogger } from '../../src/log/logger.ts';
import { killAllBrokers, startEmbeddedBrokerProcess } from '../support/broker.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WAIT_MS = 3000;

const clients = new Set<MqttClient>();

/** An mqtt.js client that does not reconnect by itself (tests decide when). */
async function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: WAIT_MS, ...options });
  clients.add(client);
  return client;
}

/** The CONNACK return code a refused CONNECT gets (4: bad user name or password). */
async function refused(url: string, options: IClientOptions): Promise<number | undefined> {
  try {
    const client = await connectClient(url, options);
    await endClient(client);
    return 0;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}

async function endClient(client: MqttClient): Promise<void> {
  clients.delete(client);
  await client.endAsync(true);
}

/** The next message on `topic`, or a rejection after `WAIT_MS`. */
function nextMessage(client: MqttClient, topic: string): Promise<{ payload: string; retain: boolean; qos: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no message on ${topic} within ${WAIT_MS} ms`));
    }, WAIT_MS);
    function onMessage(received: string, payload: Buffer, packet: { retain: boolean; qos: number }) {
      if (received !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve({ payload: payload.toString(), retain: packet.retain, qos: packet.qos });
    }
    client.on('message', onMessage);
  });
}

/** Counts of the handles that would keep a process alive. */
function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = { TCPServerWrap: 0, TCPSocketWrap: 0, Timeout: 0 };
  for (const kind of process.getActiveResourcesInfo()) if (kind in counts) counts[kind]++;
  return counts;
}

function listening(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

describe('embedded broker', () => {
  let broker: EmbeddedBroker | undefined;

  afterEach(async () => {
    await Promise.all([...clients].map(endClient));
    await broker?.close();
    broker = undefined;
  });

  describe('startEmbeddedBroker()', () => {
    it('listens on a free port when asked for port 0 and reports it in port and url', async () => {
      broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, allowAnonymous: true });
      expect(broker.port).to.be.a('number').and.greaterThan(0);
      expect(broker.url).to.equal(`mqtt://127.0.0.1:${broker.port}`);
      const client = await connectClient(broker.url);
      expect(client.connected).to.equal(true);
    });

    it('delivers a retained message to a subscriber that comes later', async () => {
      broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, allowAnonymous: true });
      const publisher = await connectClient(broker.url);
      await publisher.publishAsync('wsmesh/internal/presence/node-a', 'online', { qos: 1, retain: true });
      await endClient(publisher);

      const late = await connectClient(broker.url);
      const message = nextMessage(late, 'wsmesh/internal/presence/node-a');
      await late.subscribeAsync('wsmesh/internal/presence/+', { qos: 1 });
      expect(await message).to.deep.include({ payload: 'online', retain: true });
    });

    it('queues a QoS 1 message for a persistent session while its client is away and delivers it on reconnect', async () => {
      broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, allowAnonymous: true });
      const session = { clientId: 'node-b', clean: false };
      const nodeB = await connectClient(broker.url, session);
      await nodeB.subscribeAsync('wsmesh/internal/inbox/node-b', { qos: 1 });
      await endClient(nodeB);

      const nodeA = await connectClient(broker.url);
      await nodeA.publishAsync('wsmesh/internal/inbox/node-b', 'mail while away', { qos: 1 });

      // The queued message may arrive in the same read as the CONNACK: listen before connecting.
      const back = connect(broker.url, { reconnectPeriod: 0, ...session });
      clients.add(back);
      const delivered = nextMessage(back, 'wsmesh/internal/inbox/node-b');
      const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => back.once('connect', resolve));
      expect(connack.sessionPresent).to.equal(true);
      expect(await delivered).to.deep.include({ payload: 'mail while away', qos: 1 });
    });

    it('does not deliver a QoS 1 message published while a clean session was away', async () => {
      broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, allowAnonymous: true });
      const transient = await connectClient(broker.url, { clientId: 'node-c', clean: true });
      await transient.subscribeAsync('wsmesh/internal/inbox/node-c', { qos: 1 });
      await endClient(transient);
      const nodeA = await connectClient(broker.url);
      await nodeA.publishAsync('wsmesh/internal/inbox/node-c', 'lost', { qos: 1 });

      const back = connect(broker.url, { reconnectPeriod: 0, clientId: 'node-c', clean: true });
      clients.add(back);
      const received: string[] = [];
      back.on('message', (_topic, payload) => received.push(payload.toString()));
      await new Promise((resolve) => back.once('connect', resolve));
      await back.subscribeAsync('wsmesh/internal/inbox/node-c', { qos: 1 });
      const live = nextMessage(back, 'wsmesh/internal/inbox/node-c');
      await nodeA.publishAsync('wsmesh/internal/inbox/node-c', 'live', { qos: 1 });
      await live;
      // Only the live message: the contrast that makes the persistent-session test meaningful.
      expect(received).to.deep.equal(['live']);
    });

    it('rejects with EADDRINUSE and a message naming --broker-port when the port is taken', async () => {
      broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, allowAnonymous: true });
      const before = handleCounts();
      const err = await startEmbeddedBroker({ host: '127.0.0.1', port: broker.port, allowAnonymous: true }).then(
        () => expect.fail('a second broker on the same port started'),
        (e: unknown) => e as BrokerListenError,
      );
      expect(err).to.be.instanceOf(BrokerListenError);
      expect(err.code).to.equal('EADDRINUSE');
      expect(err.message).to.equal(
        `the embedded MQTT broker cannot listen on 127.0.0.1:${broker.port} (in use): choose another port with --broker-port, or connect to a running broker with --broker mqtt://host:port`,
      );
      // The failed attempt released its aedes (timers) and its server.
      expect(handleCounts()).to.deep.equal(before);
    });

    it('logs client connects and disconnects at debug, with the client id', async () => {
      const lines: Array<Record<string, unknown>> = [];
      broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, allowAnonymous: true }, createLogger('debug', (line) => lines.push(JSON.parse(line))));
      const client = await connectClient(broker.url, { clientId: 'logged-client' });
      await endClient(client);
      const deadline = Date.now() + WAIT_MS;
      while (!lines.some((l) => l.event === 'broker.disconnect') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(lines.filter((l) => l.level === 'debug').map((l) => [l.event, l.clientId])).to.deep.include.members([
        ['broker.connect', 'logged-client'],
        ['broker.disconnect', 'logged-client'],
      ]);
    });
  });

  describe('#close', () => {
    it('closes client connections, half-open sockets and the server, and leaves no handle behind', async () => {
      // Mocha arms this test's own timeout timer after the test function has started: settle first.
      await new Promise((resolve) => setImmediate(resolve));
      const before = handleCounts();
      const local = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, allowAnonymous: true });
      expect(handleCounts().TCPServerWrap).to.equal(before.TCPServerWrap + 1);
      const client = await connectClient(local.url);
      const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      // A socket that never sends CONNECT is not an aedes client; close() must still drop it.
      const raw: Socket = tcpConnect(local.port, '127.0.0.1');
      await new Promise((resolve) => raw.once('connect', resolve));
      const rawClosed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
      raw.on('error', () => {});

      await local.close();
      await Promise.all([clientClosed, rawClosed]);
      clients.delete(client);
      await client.endAsync(true);
      await new Promise((resolve) => setImmediate(resolve));
      // The broker's own handles: its server and every socket. Timers are process-wide
      // (any suite's pending timer counts) and flaked here; that no timer of the broker
      // outlives close() is proven in isolation by the child-process test below.
      const after = handleCounts();
      expect({ server: after.TCPServerWrap, sockets: after.TCPSocketWrap }).to.deep.equal({ server: before.TCPServerWrap, sockets: before.TCPSocketWrap });
      await local.close(); // idempotent
    });

    it('lets a process that started a broker and a client exit by itself', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'wsmesh-broker-exit-'));
      const script = join(dir, 'exit.mts');
      const moduleUrl = new URL('../../src/cluster/embedded-broker.ts', import.meta.url).href;
      writeFileSync(
        script,
        `import { startEmbeddedBroker } from ${JSON.stringify(moduleUrl)};
import { connectAsync } from ${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('mqtt')).href)};
const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, allowAnonymous: true });
const client = await connectAsync(broker.url, { reconnectPeriod: 0 });
await client.subscribeAsync('t', { qos: 1 });
await broker.close();
await client.endAsync(true);
console.log('closed');
`,
      );
      try {
        const result = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d: Buffer) => (stdout += d));
          child.stderr.on('data', (d: Buffer) => (stderr += d));
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`the process did not exit within 10 s after close(): a handle was left open\n${stderr}`));
          }, 10_000);
          child.once('exit', (code) => {
            clearTimeout(timer);
            resolve({ code, stdout });
          });
        });
        expect(result).to.deep.equal({ code: 0, stdout: 'closed\n' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe('startEmbeddedBroker() authentication', () => {
  let broker: EmbeddedBroker | undefined;
  afterEach(async () => {
    for (const client of clients) await endClient(client);
    await broker?.close();
    broker = undefined;
  });

  it('accepts only its account when anonymous clients are not allowed, with CONNACK 4 for the rest', async () => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, allowAnonymous: false, account: { username: 'node', password: 'pw-1' } });
    expect(await refused(broker.url, { username: 'node', password: 'pw-1' })).to.equal(0);
    expect(await refused(broker.url, {})).to.equal(4);
    expect(await refused(broker.url, { username: 'node', password: 'pw-2' })).to.equal(4);
    expect(await refused(broker.url, { username: 'other', password: 'pw-1' })).to.equal(4);
    expect(await refused(broker.url, { username: 'node' })).to.equal(4);
  });

  it('accepts anonymous clients only with allowAnonymous, and still checks a presented account', async () => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, allowAnonymous: true, account: { username: 'node', password: 'pw-1' } });
    expect(await refused(broker.url, {})).to.equal(0);
    expect(await refused(broker.url, { username: 'node', password: 'wrong' })).to.equal(4);
  });
});

describe('wsmesh broker', () => {
  describe('parseBrokerArgs()', () => {
    it('defaults to the cluster.embedded.* defaults and reads --flag value and --flag=value', () => {
      expect(parseBrokerArgs(['--allow-anonymous'])).to.deep.equal({ host: '127.0.0.1', port: 1883, logLevel: 'info', allowAnonymous: true });
      expect(parseBrokerArgs(['--host', '0.0.0.0', '--port=0', '--log-level', 'debug', '--allow-anonymous'])).to.deep.equal({ host: '0.0.0.0', port: 0, logLevel: 'debug', allowAnonymous: true });
      expect(parseBrokerArgs(['--username', 'n', '--password-file', 'package.json'])).to.deep.equal({ host: '127.0.0.1', port: 1883, logLevel: 'info', allowAnonymous: false, username: 'n', passwordFile: 'package.json' });
    });

    it('asks for an account, or an explicit --allow-anonymous, and a readable password file', () => {
      expect(parseBrokerArgs([])).to.match(/^give the account every client must present \(--username U --password-file F\), or --allow-anonymous/);
      expect(parseBrokerArgs(['--username', 'n'])).to.equal('--username and --password-file go together');
      expect(parseBrokerArgs(['--username', 'n', '--password-file', '/nonexistent/pw'])).to.equal('--password-file "/nonexistent/pw" cannot be read: ENOENT');
    });

    it('names what is wrong with a bad argument', () => {
      expect(parseBrokerArgs(['--allow-anonymous', '--port', '70000'])).to.equal('--port must be a TCP port (0 to 65535): "70000"');
      expect(parseBrokerArgs(['--port'])).to.equal('--port needs a value');
      expect(parseBrokerArgs(['--broker', 'x'])).to.equal('unknown argument "--broker"');
      expect(parseBrokerArgs(['--log-level=loud'])).to.match(/^--log-level must be one of debug, info, warn, error/);
    });
  });
});

describe('wsmesh broker (child process)', () => {
  after(killAllBrokers);

  it('accepts MQTT clients, restarts on the same port, and exits 0 on SIGTERM', async () => {
    const proc = await startEmbeddedBrokerProcess();
    expect(proc.output).to.include(`wsmesh broker listening on mqtt://127.0.0.1:${proc.port}`);
    const client = await connectClient(proc.url, { username: proc.username, password: proc.password });
    await endClient(client);
    // Anyone else is refused: anonymous, and the right user name with a wrong password.
    expect(await refused(proc.url, {})).to.equal(4);
    expect(await refused(proc.url, { username: proc.username, password: 'wrong' })).to.equal(4);

    const port = proc.port;
    await proc.restart();
    expect(proc.port).to.equal(port);
    const again = await connectClient(proc.url, { username: proc.username, password: proc.password });
    await endClient(again);
    expect(await proc.stop('SIGTERM')).to.deep.equal({ code: 0, signal: null });
  });

  it('exits 0 on SIGINT', async () => {
    const proc = await startEmbeddedBrokerProcess();
    expect(await proc.stop('SIGINT')).to.deep.equal({ code: 0, signal: null });
  });

  it('listens on the port it is given', async () => {
    const blocker = createServer();
    const port = await listening(blocker);
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    const proc = await startEmbeddedBrokerProcess(port);
    expect(proc.url).to.equal(`mqtt://127.0.0.1:${port}`);
    await proc.stop();
  });

  it('exits 1 with the --broker-port advice when its port is taken', async () => {
    const blocker = createServer();
    const port = await listening(blocker);
    try {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'broker', '--host', '127.0.0.1', '--port', String(port), '--allow-anonymous'], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d));
        const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error('wsmesh broker did not exit'))), 10_000);
        child.once('exit', (code) => (clearTimeout(timer), resolve({ code, stderr })));
      });
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain(`cannot listen on 127.0.0.1:${port} (in use): choose another port with --broker-port`);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
