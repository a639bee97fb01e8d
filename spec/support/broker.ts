/**
 * Real MQTT brokers as child processes, on free loopback ports, for suites that
 * need to kill and restart the broker: `mosquitto` run with the project's own
 * `mosquitto.conf` (only machine-specific lines replaced), and the embedded broker
 * as `wsmesh broker`. Every process started is killed, and every temp dir made is
 * removed, by `killAllBrokers()` (call it in an `after` hook).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary, installedBinary } from './binaries.ts';
import { ChildSet, collectLines, stopChild, waitForPort } from './children.ts';
import { freePort } from './process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The production broker configuration and ACL: what the tests run is what ships. */
export const MOSQUITTO_CONF = join(ROOT, 'mosquitto.conf');
export const ACL_EXAMPLE = join(ROOT, 'config/mosquitto/wsmesh.acl.example');

/**
 * The node accounts of docs/cluster.md (node-1..node-3), each with its block in the
 * example ACL; the password file holds all three. Test brokers of any kind accept
 * the first, so a test that needs one account uses it.
 */
export const MOSQUITTO_NODE_ACCOUNTS = [
  { username: 'node-1', password: 'test-node-1-password' },
  { username: 'node-2', password: 'test-node-2-password' },
  { username: 'node-3', password: 'test-node-3-password' },
] as const;
export const MOSQUITTO_NODE_USER = MOSQUITTO_NODE_ACCOUNTS[0].username;
export const MOSQUITTO_NODE_PASSWORD = MOSQUITTO_NODE_ACCOUNTS[0].password;

const START_TIMEOUT_MS = 10_000;

export interface BrokerProcess {
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Credentials of the node account; undefined for a broker that takes anyone. */
  readonly username?: string;
  readonly password?: string;
  /** Everything the process printed (stdout and stderr), one entry a line, across restarts. */
  readonly output: string[];
  /**
   * Sends `signal` (default SIGTERM) and waits for the exit (SIGKILL after 10 s);
   * resolves to how the process ended. When already stopped, to how it had ended.
   */
  stop(signal?: NodeJS.Signals): Promise<ProcessExit>;
  /** Stops (SIGTERM) if running, then starts again on the same port with the same persistence. */
  restart(): Promise<void>;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface MosquittoProcess extends BrokerProcess {
  readonly username: string;
  readonly password: string;
  /** The temp dir holding the derived config, password file and ACL. */
  readonly dir: string;
  readonly configFile: string;
  readonly passwordFile: string;
  readonly aclFile: string;
  readonly persistenceDir: string;
  /** The running process's id (undefined while stopped), e.g. to read its CPU time in /proc. */
  readonly pid: number | undefined;
}

export interface MosquittoOptions {
  /** Reuse a persistence dir (e.g. one a previous broker saved to); default: a new temp dir. */
  persistenceDir?: string;
  /** More accounts for the password file (e.g. a device); they need a block in the ACL to do anything. */
  users?: Record<string, string>;
}

const children = new ChildSet();
/** Temp dirs made by the broker helpers (this file and nats.ts), removed by killAllBrokers(). */
export const tempDirs = new Set<string>();

// ---------------------------------------------------------------- mosquitto

export function hasMosquitto(): boolean {
  return findBinary('mosquitto') !== undefined && findBinary('mosquitto_passwd') !== undefined;
}

export interface TestConfigPaths {
  port: number;
  persistenceDir: string;
  passwordFile: string;
  aclFile: string;
  /** mosquitto drops root for its `user` (default "mosquitto"), who could not read our 0700 temp dir. */
  runningAsRoot: boolean;
}

/** Directives that must be in mosquitto.conf, each replaced for the test. */
const REPLACED = ['listener', 'persistence_location', 'password_file', 'acl_file'] as const;
/** Directives that need root or a system path, dropped for the test. */
const DROPPED = new Set(['user', 'pid_file', 'log_dest', 'include_dir']);

/**
 * `conf` (the production mosquitto.conf) with its machine-specific lines replaced:
 * the one `listener` -> `listener <port> 127.0.0.1`, `persistence_location`,
 * `password_file` and `acl_file` -> the temp paths, `log_dest` -> stderr (plus
 * `log_type all`), and
 * `user`/`pid_file`/`include_dir` dropped. Every other line, comments included,
 * is kept as is. Throws when a replaced directive is missing or repeated, or when
 * the file has TLS listeners (their certificates are machine-specific too).
 */
export function deriveTestConfig(conf: string, paths: TestConfigPaths): string {
  const seen = new Map<string, number>();
  const out: string[] = [];
  for (const line of conf.split('\n')) {
    const directive = /^\s*([a-z_]+)\b/.exec(line)?.[1];
    if (directive === undefined) {
      out.push(line);
      continue;
    }
    seen.set(directive, (seen.get(directive) ?? 0) + 1);
    if (DROPPED.has(directive)) continue;
    switch (directive) {
      case 'listener':
        out.push(`listener ${paths.port} 127.0.0.1`);
        break;
      case 'persistence_location':
        out.push(`persistence_location ${paths.persistenceDir.replace(/\/?$/, '/')}`);
        break;
      case 'password_file':
        out.push(`password_file ${paths.passwordFile}`);
        break;
      case 'acl_file':
        out.push(`acl_file ${paths.aclFile}`);
        break;
      case 'certfile':
      case 'keyfile':
      case 'cafile':
        throw new Error(`mosquitto.conf: "${directive}" is active; the test config knows only the plain listener`);
      default:
        out.push(line);
    }
  }
  for (const directive of REPLACED) {
    const count = seen.get(directive) ?? 0;
    if (count !== 1) throw new Error(`mosquitto.conf must have exactly one active "${directive}" line (found ${count}); the test config replaces it`);
  }
  // stderr, not stdout: mosquitto block-buffers stdout into a pipe, so its log would
  // only arrive at exit. Everything is logged (ACL denials included) for diagnosis.
  out.push('', '# Test-only lines (spec/support/broker.ts):', 'log_dest stderr', 'log_type all');
  if (paths.runningAsRoot) out.push('user root');
  return out.join('\n') + '\n';
}

/** Adds (or updates) an account in a mosquitto password file; `create` starts a new file. */
export function mosquittoPasswd(file: string, username: string, password: string, create = false): void {
  const bin = installedBinary('mosquitto_passwd');
  const args = create ? ['-c', '-b', file, username, password] : ['-b', file, username, password];
  const result = spawnSync(bin, args, { encoding: 'utf8', timeout: START_TIMEOUT_MS });
  if (result.status !== 0) throw new Error(`mosquitto_passwd failed (${result.status ?? result.signal}): ${result.stderr || result.stdout}`);
}

/**
 * Starts `mosquitto -c <derived config>` on a free loopback port and waits until the
 * port accepts TCP. The password file holds `MOSQUITTO_NODE_ACCOUNTS` plus `options.users`;
 * the ACL is the example's.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoProcess> {
  const bin = installedBinary('mosquitto');
  const dir = mkdtempSync(join(tmpdir(), 'wsmesh-mosquitto-'));
  tempDirs.add(dir);
  const persistenceDir = options.persistenceDir ?? join(dir, 'data');
  mkdirSync(persistenceDir, { recursive: true });
  const passwordFile = join(dir, 'wsmesh.passwd');
  const aclFile = join(dir, 'wsmesh.acl');
  const configFile = join(dir, 'mosquitto.conf');

  // As docs/cluster.md says: -c for the first account, then one more per node.
  MOSQUITTO_NODE_ACCOUNTS.forEach((account, i) => mosquittoPasswd(passwordFile, account.username, account.password, i === 0));
  for (const [username, password] of Object.entries(options.users ?? {})) mosquittoPasswd(passwordFile, username, password);
  copyFileSync(ACL_EXAMPLE, aclFile);
  const port = await freePort();
  const runningAsRoot = process.getuid?.() === 0;
  writeFileSync(configFile, deriveTestConfig(readFileSync(MOSQUITTO_CONF, 'utf8'), { port, persistenceDir, passwordFile, aclFile, runningAsRoot }));

  const supervisor = new Supervisor('mosquitto', () => spawn(bin, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] }), port);
  await supervisor.start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    username: MOSQUITTO_NODE_USER,
    password: MOSQUITTO_NODE_PASSWORD,
    output: supervisor.output,
    dir,
    configFile,
    passwordFile,
    aclFile,
    persistenceDir,
    get pid() {
      return supervisor.pid;
    },
    stop: (signal) => supervisor.stop(signal),
    restart: () => supervisor.restart(),
  };
}

// ---------------------------------------------------------------- embedded broker

/**
 * Runs `wsmesh broker --host 127.0.0.1 --port <port>` (default: a free port the
 * broker picks and prints) and waits for its "listening" line. `restart()` reuses
 * the port; the embedded broker keeps nothing across a restart.
 */
export async function startEmbeddedBrokerProcess(port?: number): Promise<BrokerProcess> {
  let bound = port ?? 0;
  // The same node account as the Mosquitto tests', so node flags do not depend on the broker.
  const dir = mkdtempSync(join(tmpdir(), 'wsmesh-broker-'));
  tempDirs.add(dir);
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, MOSQUITTO_NODE_PASSWORD + '\n');
  const supervisor = new Supervisor(
    'wsmesh broker',
    () =>
      spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'broker', '--host', '127.0.0.1', '--port', String(bound), '--username', MOSQUITTO_NODE_USER, '--password-file', passwordFile], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    undefined,
    (line) => {
      const match = /^wsmesh broker listening on mqtt:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
      if (match) bound = Number(match[1]);
      return match !== null;
    },
  );
  await supervisor.start();
  return {
    get url() {
      return `mqtt://127.0.0.1:${bound}`;
    },
    get port() {
      return bound;
    },
    username: MOSQUITTO_NODE_USER,
    password: MOSQUITTO_NODE_PASSWORD,
    output: supervisor.output,
    stop: (signal) => supervisor.stop(signal),
    restart: () => supervisor.restart(),
  };
}

// ---------------------------------------------------------------- lifecycle

/** Kills (SIGKILL) every broker process still running and removes the temp dirs. */
export async function killAllBrokers(): Promise<void> {
  await children.stopAll('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** One broker process, started again on demand; ready is "port accepts TCP" or a matching output line. */
export class Supervisor {
  readonly output: string[] = [];
  private child: ChildProcess | undefined;

  constructor(
    private readonly name: string,
    private readonly launch: () => ChildProcess,
    private readonly port: number | undefined,
    private readonly readyLine?: (line: string) => boolean,
  ) {}

  /** The running process's id; undefined before the first start and after an exit. */
  get pid(): number | undefined {
    return this.child && this.child.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  async start(): Promise<void> {
    const child = children.track(this.launch());
    this.child = child;
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code, signal) => {
        reject(new Error(`${this.name} exited (${code ?? signal}) before it was ready:\n${this.output.join('\n')}`));
      });
    });
    exited.catch(() => {}); // only awaited while starting
    const lineSeen = new Promise<void>((resolve) => {
      const onLine = (line: string) => {
        this.output.push(line);
        if (this.readyLine?.(line)) resolve();
      };
      collectLines(child.stdout!, onLine);
      collectLines(child.stderr!, onLine);
    });
    let starting = true;
    const ready = this.readyLine ? lineSeen : waitForPort(this.port!, () => !starting);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name} not ready within ${START_TIMEOUT_MS} ms:\n${this.output.join('\n')}`)), START_TIMEOUT_MS);
    });
    try {
      await Promise.race([ready, exited, timeout]);
    } catch (err) {
      await stopChild(child, 'SIGKILL');
      throw err;
    } finally {
      starting = false;
      clearTimeout(timer);
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ProcessExit> {
    const child = this.child!;
    await stopChild(child, signal);
    return { code: child.exitCode, signal: child.signalCode };
  }

  async restart(): Promise<void> {
    await this.stop('SIGTERM');
    await this.start();
  }
}
