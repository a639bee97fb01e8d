/**
 * `wsmesh mqtt publish` against the embedded broker, with an account as a device has
 * one: the exact topic and payload reach a subscriber; wrong credentials, no broker,
 * a silent or a refusing broker, and bad flags each exit with a message saying what
 * to do, and never print the password.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { DEFAULTS, ingressTopic, runMqttPublish, type MqttPublishTimeouts } from '../../src/cli/mqtt-publish.ts';
import { runCli } from '../../src/cli/run.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/cluster/embedded-broker.ts';
import { parseIngressTopic } from '../../src/mqtt/ingress-topic.ts';
import { freePort } from '../support/process.ts';
import { io } from './streams.ts';
import { wsmesh } from './wsmesh-process.ts';

const ACCOUNT = { username: 'thermo-17', password: 'correct horse battery staple' };
const WRONG_PASSWORD = 'Tr0ub4dor&3-wrong';
const WAIT_MS = 3000;
/** Short enough that the failure tests are quick, long enough for a loaded machine. */
const QUICK: MqttPublishTimeouts = { connectTimeoutMs: 400, ackTimeoutMs: 400 };

interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

describe('wsmesh mqtt publish', () => {
  let broker: EmbeddedBroker;
  let subscriber: MqttClient;
  let dir: string;
  let passwordFile: string;
  let wrongPasswordFile: string;
  const received: Received[] = [];
  const servers: Server[] = [];
  /** The fake brokers' connections, destroyed after each test so their servers can close. */
  const sockets = new Set<Socket>();

  before(async () => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, allowAnonymous: false, account: ACCOUNT });
    subscriber = await connectAsync(broker.url, { ...ACCOUNT, reconnectPeriod: 0, connectTimeout: WAIT_MS });
    subscriber.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }));
    await subscriber.subscribeAsync(['wsmesh/ingress/#', 'eu-1/ingress/#'], { qos: 1 });
    dir = mkdtempSync(join(tmpdir(), 'wsmesh-mqtt-publish-'));
    passwordFile = join(dir, 'password');
    // A final newline, as `echo` and editors write it: not part of the password.
    writeFileSync(passwordFile, `${ACCOUNT.password}\n`);
    wrongPasswordFile = join(dir, 'wrong-password');
    writeFileSync(wrongPasswordFile, `${WRONG_PASSWORD}\n`);
  });

  afterEach(async () => {
    // Whatever a test published has arrived (or never will) before the next one looks.
    await marker();
    received.length = 0;
    for (const socket of sockets) socket.destroy();
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  });

  after(async () => {
    await subscriber?.endAsync(true);
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The command in-process, with only the environment given (not the test runner's). */
  async function publish(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeouts: MqttPublishTimeouts = DEFAULTS) {
    const streams = io();
    const code = await runMqttPublish(args, streams, env, timeouts);
    return { code, stdout: streams.stdout.text, stderr: streams.stderr.text };
  }

  /** `--broker`, `--username` and `--password-file` for the test broker's account. */
  function asDevice(...args: string[]): string[] {
    return [...args, '--broker', broker.url, '--username', ACCOUNT.username, '--password-file', passwordFile];
  }

  /** The messages received on `topic`, once `count` of them are there. */
  async function arrived(count: number): Promise<Received[]> {
    const deadline = Date.now() + WAIT_MS;
    while (received.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return received.slice();
  }

  /** Publishes a marker through the subscriber and waits for it: earlier messages have arrived by then. */
  async function marker(): Promise<void> {
    const topic = `wsmesh/ingress/999/999/marker-${Math.random().toString(36).slice(2)}`;
    await subscriber.publishAsync(topic, 'marker', { qos: 1 });
    const deadline = Date.now() + WAIT_MS;
    while (!received.some((m) => m.topic === topic) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    const index = received.findIndex((m) => m.topic === topic);
    expect(index, 'the marker arrived').to.be.at.least(0);
    received.splice(index, 1);
  }

  /** A TCP server on a free port that runs `onSocket` for each connection, instead of a broker. */
  async function fakeBroker(onSocket: (socket: Socket) => void): Promise<{ url: string; connections: () => number }> {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      onSocket(socket);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`, connections: () => connections };
  }

  function expectNoSecret(run: { stdout: string; stderr: string }): void {
    for (const secret of [ACCOUNT.password, WRONG_PASSWORD]) expect(run.stdout + run.stderr).not.to.contain(secret);
  }

  describe('publishing', () => {
    it("publishes the message to <cluster>/ingress/<context>/<user> and prints the topic, the QoS and the size", async () => {
      const run = await publish(asDevice('--context', '1', '--user', '3', '--message', 'Build 42 is deployed'));
      expect(run.stderr).to.equal('');
      expect(run.code).to.equal(0);
      expect(run.stdout).to.equal('published to wsmesh/ingress/1/3 (qos 1, 20 bytes)\n');
      expect(await arrived(1)).to.deep.equal([{ topic: 'wsmesh/ingress/1/3', payload: 'Build 42 is deployed', qos: 1, retain: false }]);
    });

    it('sends the message as UTF-8 text, byte for byte, and counts its bytes', async () => {
      const message = '{"text": "Grüße \u{1f600}", "n": 1}\n  two lines';
      const run = await publish(asDevice('--context', '7', '--user', '12', '--message', message));
      expect(run.stdout).to.equal(`published to wsmesh/ingress/7/12 (qos 1, ${Buffer.byteLength(message)} bytes)\n`);
      expect((await arrived(1)).map((m) => m.payload)).to.deep.equal([message]);
    });

    for (const [path, topic] of [
      ['/ws/mail', 'wsmesh/ingress/1/3/ws/mail'],
      ['/ws/mail/*', 'wsmesh/ingress/1/3/ws/mail/*'],
      ['*', 'wsmesh/ingress/1/3/*'],
      ['/*', 'wsmesh/ingress/1/3/*'],
      ['/socket.io/app_suite-2', 'wsmesh/ingress/1/3/socket.io/app_suite-2'],
    ]) {
      it(`adds the segments of --path ${path} to the topic: ${topic}`, async () => {
        const run = await publish(asDevice('--context', '1', '--user', '3', '--path', path, '--message', 'hi'));
        expect(run.stdout).to.equal(`published to ${topic} (qos 1, 2 bytes)\n`);
        expect((await arrived(1)).map((m) => m.topic)).to.deep.equal([topic]);
      });
    }

    it('publishes at QoS 0 with --qos 0', async () => {
      const run = await publish(asDevice('--context', '1', '--user', '3', '--qos', '0', '--message', 'fire and forget'));
      expect(run.stdout).to.equal('published to wsmesh/ingress/1/3 (qos 0, 15 bytes)\n');
      expect(await arrived(1)).to.deep.equal([{ topic: 'wsmesh/ingress/1/3', payload: 'fire and forget', qos: 0, retain: false }]);
    });

    it("publishes under another cluster's root with --cluster-name", async () => {
      const run = await publish(asDevice('--context', '1', '--user', '3', '--cluster-name', 'eu-1', '--message', 'hi'));
      expect(run.stdout).to.equal('published to eu-1/ingress/1/3 (qos 1, 2 bytes)\n');
      expect((await arrived(1)).map((m) => m.topic)).to.deep.equal(['eu-1/ingress/1/3']);
    });

    it('takes the user name and password from WSMESH_MQTT_USERNAME and WSMESH_MQTT_PASSWORD', async () => {
      const env = { WSMESH_MQTT_USERNAME: ACCOUNT.username, WSMESH_MQTT_PASSWORD: ACCOUNT.password };
      const run = await publish(['--context', '1', '--user', '3', '--message', 'from env', '--broker', broker.url], env);
      expect(run.code).to.equal(0);
      expect((await arrived(1)).map((m) => m.payload)).to.deep.equal(['from env']);
    });

    it('lets --username and --password-file win over the environment', async () => {
      const env = { WSMESH_MQTT_USERNAME: 'someone-else', WSMESH_MQTT_PASSWORD: WRONG_PASSWORD };
      const run = await publish(asDevice('--context', '1', '--user', '3', '--message', 'flags win'), env);
      expect(run.stderr).to.equal('');
      expect(run.code).to.equal(0);
      expect((await arrived(1)).map((m) => m.payload)).to.deep.equal(['flags win']);
    });

    it('keeps spaces in the password file\'s first line and ignores the lines after it', async () => {
      const file = join(dir, 'password-crlf');
      writeFileSync(file, `${ACCOUNT.password}\r\nsecond line\n`);
      const run = await publish(['--context', '1', '--user', '3', '--message', 'crlf', '--broker', broker.url, '--username', ACCOUNT.username, '--password-file', file]);
      expect(run.code).to.equal(0);
    });

    it('runs as a process that exits by itself once the message is acknowledged', async () => {
      const run = await wsmesh(['mqtt', 'publish', '--context', '1', '--user', '3', '--message', 'from a process', '--broker', broker.url], {
        env: { WSMESH_MQTT_USERNAME: ACCOUNT.username, WSMESH_MQTT_PASSWORD: ACCOUNT.password },
      });
      expect(run.stderr).to.equal('');
      expect(run.code).to.equal(0);
      expect(run.stdout).to.equal('published to wsmesh/ingress/1/3 (qos 1, 14 bytes)\n');
      expect((await arrived(1)).map((m) => m.payload)).to.deep.equal(['from a process']);
    });
  });

  describe('failures (exit 1)', () => {
    it('says the broker refused the user name or password, and publishes nothing, for a wrong password', async () => {
      const run = await publish(['--context', '1', '--user', '3', '--message', 'nope', '--broker', broker.url, '--username', ACCOUNT.username, '--password-file', wrongPasswordFile]);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.equal(
        'wsmesh mqtt publish: the broker refused the user name or password: check --username and the password (WSMESH_MQTT_PASSWORD or --password-file)\n',
      );
      expectNoSecret(run);
      await marker();
      expect(received).to.deep.equal([]);
    });

    it('says the same for an unknown user name', async () => {
      const run = await publish(['--context', '1', '--user', '3', '--message', 'nope', '--broker', broker.url], { WSMESH_MQTT_USERNAME: 'thermo-18', WSMESH_MQTT_PASSWORD: ACCOUNT.password });
      expect(run.code).to.equal(1);
      expect(run.stderr).to.contain('the broker refused the user name or password');
      expectNoSecret(run);
    });

    it('says the broker wants credentials when none were given', async () => {
      const run = await publish(['--context', '1', '--user', '3', '--message', 'nope', '--broker', broker.url]);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.equal(
        'wsmesh mqtt publish: the broker wants a user name and password: set WSMESH_MQTT_USERNAME and WSMESH_MQTT_PASSWORD, or pass --username and --password-file\n',
      );
    });

    it('says the password is missing when only a user name was given', async () => {
      const run = await publish(['--context', '1', '--user', '3', '--message', 'nope', '--broker', broker.url, '--username', ACCOUNT.username]);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.equal('wsmesh mqtt publish: the broker refused the user name "thermo-17" without a password: set WSMESH_MQTT_PASSWORD or pass --password-file\n');
    });

    it('says the broker cannot be reached when nothing listens on its port', async () => {
      const url = `mqtt://127.0.0.1:${await freePort()}`;
      const run = await publish(['--context', '1', '--user', '3', '--message', 'nope', '--broker', url, '--username', ACCOUNT.username, '--password-file', passwordFile]);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.equal(`wsmesh mqtt publish: cannot reach the broker at ${url} (ECONNREFUSED): is it running? pass --broker mqtt://host:port\n`);
      expectNoSecret(run);
    });

    it('says the default broker cannot be reached when --broker is not given and nothing listens there', async function () {
      // Only meaningful where no broker runs on the default port.
      if (!(await portIsFree(1883))) this.skip();
      const run = await publish(['--context', '1', '--user', '3', '--message', 'nope'], { WSMESH_MQTT_USERNAME: ACCOUNT.username, WSMESH_MQTT_PASSWORD: ACCOUNT.password });
      expect(run.code).to.equal(1);
      expect(run.stderr).to.equal(`wsmesh mqtt publish: cannot reach the broker at ${DEFAULTS.broker} (ECONNREFUSED): is it running? pass --broker mqtt://host:port\n`);
    });

    // A resolver that cannot answer within the connect timeout (no DNS in a sandbox)
    // makes it a timeout instead; both say what to check.
    it('says the host is unknown for a broker name that does not resolve', async () => {
      const run = await publish(['--context', '1', '--user', '3', '--message', 'nope', '--broker', 'mqtt://no-such-host.invalid:1883'], {}, QUICK);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(/^wsmesh mqtt publish: (cannot reach the broker at mqtt:\/\/no-such-host\.invalid:1883: unknown host \((ENOTFOUND|EAI_AGAIN)\): check --broker|no answer from the broker at mqtt:\/\/no-such-host\.invalid:1883 within 0\.4 s: .*)\n$/);
    });

    it('gives up after the connect timeout on a server that never answers CONNECT', async () => {
      const silent = await fakeBroker(() => {});
      const started = Date.now();
      const run = await publish(['--context', '1', '--user', '3', '--message', 'nope', '--broker', silent.url], {}, QUICK);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.equal(`wsmesh mqtt publish: no answer from the broker at ${silent.url} within 0.4 s: is it an MQTT broker, and running? pass --broker mqtt://host:port\n`);
      expect(Date.now() - started).to.be.below(3000);
    });

    it('says the broker closed the connection when it hangs up before a CONNACK', async () => {
      const hangsUp = await fakeBroker((socket) => socket.once('data', () => socket.destroy()));
      const run = await publish(['--context', '1', '--user', '3', '--message', 'nope', '--broker', hangsUp.url], {}, QUICK);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.equal(`wsmesh mqtt publish: the broker at ${hangsUp.url} closed the connection before accepting it: is it an MQTT 3.1.1 broker? check --broker\n`);
    });

    // How an MQTT 3.1.1 broker refuses a publish its ACL forbids: it closes the
    // connection (aedes), or acknowledges and drops it (Mosquitto), never a negative PUBACK.
    it('says the account may not publish there when the broker closes the connection instead of a PUBACK', async () => {
      const refuses = await fakeBroker((socket) => {
        socket.once('data', () => {
          socket.write(CONNACK_ACCEPTED);
          socket.once('data', () => socket.destroy());
        });
      });
      const run = await publish(['--context', '1', '--user', '4', '--message', 'nope', '--broker', refuses.url], {}, QUICK);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.equal(
        `wsmesh mqtt publish: the broker at ${refuses.url} closed the connection instead of acknowledging the message: the account may not publish to wsmesh/ingress/1/4 ` +
          "(a device only to its own context and users: check --context, --user and the account's rights on the broker)\n",
      );
    });

    it('says the message may or may not have been delivered when no PUBACK comes in time', async () => {
      const mute = await fakeBroker((socket) => socket.once('data', () => socket.write(CONNACK_ACCEPTED)));
      const run = await publish(['--context', '1', '--user', '3', '--message', 'nope', '--broker', mute.url], {}, QUICK);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.equal(`wsmesh mqtt publish: the broker at ${mute.url} did not acknowledge the message within 0.4 s; it may or may not have been delivered\n`);
    });

    it('does not wait for a PUBACK at QoS 0', async () => {
      const mute = await fakeBroker((socket) => socket.once('data', () => socket.write(CONNACK_ACCEPTED)));
      const run = await publish(['--context', '1', '--user', '3', '--message', 'hi', '--qos', '0', '--broker', mute.url], {}, QUICK);
      expect(run.stderr).to.equal('');
      expect(run.code).to.equal(0);
    });

    for (const [returnCode, says] of [
      [1, 'the broker refused MQTT 3.1.1 (return code 1): point --broker at a broker that speaks it'],
      [3, 'the broker is unavailable (return code 3): try again later'],
      [5, 'the broker refused the account "thermo-17" (not authorized): check --username and the password (WSMESH_MQTT_PASSWORD or --password-file)'],
    ] as const) {
      it(`explains a CONNACK refusal with return code ${returnCode}`, async () => {
        const refusing = await fakeBroker((socket) => socket.once('data', () => socket.end(Buffer.from([0x20, 0x02, 0x00, returnCode]))));
        const run = await publish(['--context', '1', '--user', '3', '--message', 'nope', '--broker', refusing.url, '--username', ACCOUNT.username, '--password-file', passwordFile], {}, QUICK);
        expect(run.code).to.equal(1);
        expect(run.stderr).to.equal(`wsmesh mqtt publish: ${says}\n`);
        expectNoSecret(run);
      });
    }
  });

  describe('usage errors (exit 2, before connecting)', () => {
    const CASES: Array<[what: string, args: string[], says: string]> = [
      ['no --context', ['--user', '3', '--message', 'hi'], '--context is required'],
      ['no --user', ['--context', '1', '--message', 'hi'], '--user is required'],
      ['no --message', ['--context', '1', '--user', '3'], '--message is required'],
      ['an empty --message', ['--context', '1', '--user', '3', '--message='], '--message needs a value'],
      ['a --user that is not a number', ['--context', '1', '--user', 'alice', '--message', 'hi'], '--user must be a positive integer: "alice"'],
      ['a --context of 0', ['--context', '0', '--user', '3', '--message', 'hi'], '--context must be a positive integer: "0"'],
      ['a --qos of 2', ['--context', '1', '--user', '3', '--message', 'hi', '--qos', '2'], '--qos must be 0 or 1: "2"'],
      ['an unknown flag', ['--context', '1', '--user', '3', '--message', 'hi', '--retain'], 'unknown flag --retain'],
      ['a positional argument', ['--context', '1', '--user', '3', 'hi'], 'unexpected argument "hi"'],
      ['a --password flag', ['--context', '1', '--user', '3', '--message', 'hi', '--password', 'x'], 'there is no --password flag'],
      ['a --password=... flag', ['--context', '1', '--user', '3', '--message', 'hi', '--password=x'], 'set WSMESH_MQTT_PASSWORD or use --password-file F'],
      ['an http:// --broker', ['--context', '1', '--user', '3', '--message', 'hi', '--broker', 'http://127.0.0.1:1883'], '--broker must be a broker URL like'],
      ['a --broker that is not a URL', ['--context', '1', '--user', '3', '--message', 'hi', '--broker', '127.0.0.1:1883'], '--broker must be a broker URL'],
      ['a --broker with credentials', ['--context', '1', '--user', '3', '--message', 'hi', '--broker', 'mqtt://thermo:secret@127.0.0.1:1883'], '--broker must not hold credentials'],
      ['a --cluster-name with a slash', ['--context', '1', '--user', '3', '--message', 'hi', '--cluster-name', 'eu/1'], '--cluster-name must be the nodes\' cluster.name'],
      ['a --cluster-name with a wildcard', ['--context', '1', '--user', '3', '--message', 'hi', '--cluster-name', '#'], '--cluster-name must be'],
      ['a password file that does not exist', ['--context', '1', '--user', '3', '--message', 'hi', '--username', 'u', '--password-file', '/nonexistent/wsmesh-password'], 'cannot read the password file /nonexistent/wsmesh-password: ENOENT'],
    ];
    for (const [what, args, says] of CASES) {
      it(`exits 2 for ${what}`, async () => {
        const run = await publish(args);
        expect(run.code).to.equal(2);
        expect(run.stdout).to.equal('');
        expect(run.stderr).to.satisfy((text: string) => text.startsWith('wsmesh mqtt publish: ')).and.contain(says);
        expect(run.stderr).not.to.contain('secret');
      });
    }

    const PATHS: Array<[path: string, says: string]> = [
      ['ws/mail', 'a path must start with "/"'],
      ['/ws//mail', 'empty segment ("//")'],
      ['/ws/mail/', 'a path must not end with "/"'],
      ['/ws/*/mail', '"*" (a wildcard is only allowed as a whole last segment'],
      ['/ws/mail*', '"*"'],
      ['/', 'the root "/" alone is not a valid path'],
      ['/ws/m ail', 'character " " at index 5 is not allowed'],
      ['/ws/+', 'character "+"'],
      ['/ws/#', 'character "#"'],
      ['**', 'a path must start with "/"'],
    ];
    for (const [path, says] of PATHS) {
      it(`exits 2 with the path filter's problem for --path ${JSON.stringify(path)}`, async () => {
        const run = await publish(['--context', '1', '--user', '3', '--message', 'hi', '--path', path]);
        expect(run.code).to.equal(2);
        expect(run.stderr).to.contain(`wsmesh mqtt publish: --path: Invalid path filter: `).and.contain(says);
      });
    }

    it('prints the synopsis after a usage error', async () => {
      const run = await publish(['--context', '1']);
      expect(run.stderr).to.equal(
        'wsmesh mqtt publish: --user is required\n\n' +
          'Usage: wsmesh mqtt publish --context N --user N --message TEXT [--path FILTER] [--qos 0|1] [--broker URL] [--username ID] [--password-file F] [--cluster-name NAME]\n\n' +
          'wsmesh mqtt publish --help shows every flag.\n',
      );
    });

    it('exits 2 for an empty password file, and for a password without a user name', async () => {
      const empty = join(dir, 'empty');
      writeFileSync(empty, '\nsecond line\n');
      const emptyRun = await publish(['--context', '1', '--user', '3', '--message', 'hi', '--username', 'u', '--password-file', empty]);
      expect([emptyRun.code, emptyRun.stderr]).to.deep.equal([2, `wsmesh mqtt publish: the password file ${empty} has an empty first line: write the account's password there\n`]);
      const orphan = await publish(['--context', '1', '--user', '3', '--message', 'hi'], { WSMESH_MQTT_PASSWORD: ACCOUNT.password });
      expect(orphan.code).to.equal(2);
      expect(orphan.stderr).to.contain('a password without a user name: give the account id with --username or WSMESH_MQTT_USERNAME');
      expectNoSecret(orphan);
    });

    it('connects to nothing when the flags are wrong', async () => {
      const counting = await fakeBroker((socket) => socket.destroy());
      const base = ['--context', '1', '--user', '3', '--message', 'hi', '--broker', counting.url];
      for (const wrong of [['--qos', '2'], ['--path', 'nope'], ['--cluster-name', 'a/b'], ['--password-file', '/nonexistent/wsmesh-password', '--username', 'u']]) {
        expect((await publish([...base, ...wrong])).code, wrong.join(' ')).to.equal(2);
      }
      expect(counting.connections()).to.equal(0);
    });
  });

  describe('the mqtt command group', () => {
    it('exits 2 and names the missing subcommand', async () => {
      const streams = io();
      expect(await runCli(['mqtt'], streams)).to.equal(2);
      expect(streams.stderr.text).to.match(/^wsmesh mqtt: a subcommand is required\n\nUsage: wsmesh mqtt publish /);
    });

    it('exits 2 and names an unknown subcommand', async () => {
      const streams = io();
      expect(await runCli(['mqtt', 'subscribe', '--context', '1'], streams)).to.equal(2);
      expect(streams.stderr.text).to.match(/^wsmesh mqtt: unknown subcommand "subscribe"\n\nUsage: wsmesh mqtt publish /);
      expect(streams.stdout.text).to.equal('');
    });

    for (const argv of [['mqtt', 'publish', '--help'], ['mqtt', 'publish', '--context', '1', '-h'], ['mqtt', 'help', 'publish'], ['mqtt', '--help', 'publish']]) {
      it(`prints the publish usage for ${argv.join(' ')}`, async () => {
        const streams = io();
        expect(await runCli(argv, streams)).to.equal(0);
        expect(streams.stdout.text).to.match(/^Usage: wsmesh mqtt publish --context N/).and.contain('WSMESH_MQTT_PASSWORD').and.contain('there is no --password flag');
      });
    }

    it('prints the group usage for wsmesh help mqtt, and is listed by wsmesh help', async () => {
      const streams = io();
      expect(await runCli(['help', 'mqtt'], streams)).to.equal(0);
      expect(streams.stdout.text).to.match(/^Usage: wsmesh mqtt publish /);
      const list = io();
      await runCli(['help'], list);
      expect(list.stdout.text).to.match(/\n {2}mqtt +publish to a user's sockets through the broker/);
    });

    it('publishes through the dispatcher', async () => {
      const streams = io();
      expect(await runCli(['mqtt', 'publish', ...asDevice('--context', '1', '--user', '3', '--message', 'via runCli')], streams)).to.equal(0);
      expect((await arrived(1)).map((m) => m.payload)).to.deep.equal(['via runCli']);
    });
  });

  describe('#ingressTopic', () => {
    it('builds the topics the nodes parse back into the same target', () => {
      for (const [path, pathFilter] of [[undefined, null], ['/ws/mail', '/ws/mail'], ['/ws/mail/*', '/ws/mail/*'], ['*', '/*'], ['/*', '/*']] as const) {
        const topic = ingressTopic('wsmesh', 1, 3, path);
        expect(parseIngressTopic(topic, 'wsmesh/ingress/'), topic).to.deep.equal({ contextId: 1, userId: 3, pathFilter });
      }
    });
  });
});

/** CONNACK, session not present, return code 0 (accepted). */
const CONNACK_ACCEPTED = Buffer.from([0x20, 0x02, 0x00, 0x00]);

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
