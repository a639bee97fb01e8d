/**
 * Real reverse proxies for the proxy suites: Apache httpd 2.4 and nginx, each run
 * in the foreground on a free loopback port from a temp dir, with the site file
 * rendered by the same template as `config/proxy/*` (see ./configs.ts). Only the
 * machine-specific frame around the site (modules, pid file, logs, temp paths) is
 * test-only. `stopAllProxies()` (an `after` hook) stops every proxy and removes its dir.
 *
 * Also: an HTTP client that connects from a chosen loopback address, so a test can
 * tell the client's address from the proxy's (both are on 127.0.0.0/8).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { renderApacheSite, renderNginxSite, EXAMPLE_SITE, type ProxyMember, type ProxySite } from './configs.ts';
import { installedBinary } from '../support/binaries.ts';
import { hasExited, stopChild, waitForPort } from '../support/children.ts';
import { freePort } from '../support/process.ts';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export type ProxyKindName = 'apache' | 'nginx';

export interface ProxyProcess {
  readonly kind: ProxyKindName;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  readonly dir: string;
  /** The rendered site file (from the same template as the example) and the frame including it. */
  readonly siteFile: string;
  readonly configFile: string;
  /** The proxy's stdout, stderr and error log, for failure messages. */
  diagnostics(): string;
  stop(): Promise<void>;
}

export interface ProxyKind {
  name: ProxyKindName;
  /** The binary the suite needs, as `requireBinary` looks it up. */
  binary: string;
  /** `timeoutSeconds`: the site's idle timeout (default: the example's). */
  start(members: ProxyMember[], timeoutSeconds?: number): Promise<ProxyProcess>;
}

const running = new Set<ProxyProcess>();

/** The test site: the example's settings, on a loopback port, in front of `members`. */
export function testSite(port: number, members: ProxyMember[], timeoutSeconds = EXAMPLE_SITE.timeoutSeconds): ProxySite {
  return { ...EXAMPLE_SITE, listen: { apache: `127.0.0.1:${port}`, nginx: `127.0.0.1:${port}` }, serverName: '127.0.0.1', members, timeoutSeconds };
}

const runningAsRoot = () => process.getuid?.() === 0;

function makeDir(kind: ProxyKindName): string {
  const dir = mkdtempSync(join(tmpdir(), `wsmesh-${kind}-`));
  // Apache's and nginx's workers drop root (to www-data / the configured user) and
  // still open files here (mutexes, temp files).
  chmodSync(dir, 0o755);
  return dir;
}

// ---------------------------------------------------------------- Apache httpd

/** Where Debian (and other layouts) keep httpd's shared modules. */
const APACHE_MODULE_DIRS = ['/usr/lib/apache2/modules', '/usr/lib64/httpd/modules', '/usr/lib/httpd/modules', '/usr/local/apache2/modules'];

/** The modules docs/proxy.md tells operators to enable, plus what a bare httpd needs (MPM, Require). */
const APACHE_MODULES: Array<[string, string]> = [
  ['mpm_event_module', 'mod_mpm_event.so'],
  ['authz_core_module', 'mod_authz_core.so'],
  ['headers_module', 'mod_headers.so'],
  ['proxy_module', 'mod_proxy.so'],
  ['proxy_http_module', 'mod_proxy_http.so'],
  ['proxy_wstunnel_module', 'mod_proxy_wstunnel.so'],
  ['slotmem_shm_module', 'mod_slotmem_shm.so'],
  ['proxy_balancer_module', 'mod_proxy_balancer.so'],
  ['lbmethod_byrequests_module', 'mod_lbmethod_byrequests.so'],
];

/** The test-only frame: everything machine-specific; the site itself is the template's. */
export function apacheFrame(dir: string, port: number, siteFile: string, moduleDir: string): string {
  const user = runningAsRoot() ? ['# httpd refuses to serve as root: children run as www-data.', 'User www-data', 'Group www-data'] : [];
  return [
    '# Test frame (spec/proxy/support.ts) around the site rendered from spec/proxy/configs.ts.',
    `ServerRoot "${dir}"`,
    'ServerName 127.0.0.1',
    `Listen 127.0.0.1:${port}`,
    `PidFile "${join(dir, 'httpd.pid')}"`,
    `DefaultRuntimeDir "${dir}"`,
    `Mutex file:${dir} default`,
    `ErrorLog "${join(dir, 'error.log')}"`,
    'LogLevel warn proxy:info proxy_balancer:info',
    ...user,
    ...APACHE_MODULES.map(([name, file]) => `LoadModule ${name} ${join(moduleDir, file)}`),
    // Few processes: a test needs a handful of connections.
    'StartServers 1',
    'ServerLimit 2',
    'ThreadsPerChild 25',
    'MaxRequestWorkers 50',
    `Include "${siteFile}"`,
    '',
  ].join('\n');
}

export const apache: ProxyKind = {
  name: 'apache',
  binary: 'apache2',
  async start(members, timeoutSeconds) {
    const bin = installedBinary('apache2');
    const moduleDir = APACHE_MODULE_DIRS.find((d) => existsSync(join(d, 'mod_proxy_wstunnel.so')));
    if (!moduleDir) throw new Error(`Apache's mod_proxy_wstunnel.so is in none of ${APACHE_MODULE_DIRS.join(', ')}: install the package "apache2"`);
    return launch('apache', 'httpd.conf', {
      site: (port) => renderApacheSite(testSite(port, members, timeoutSeconds)),
      frame: ({ dir, port, siteFile }) => apacheFrame(dir, port, siteFile, moduleDir),
      // -DFOREGROUND: the parent stays attached (no daemon), so the test owns it.
      run: ({ dir, configFile }) => spawn(bin, ['-d', dir, '-f', configFile, '-DFOREGROUND'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', LANG: 'C' } }),
    });
  },
};

// ---------------------------------------------------------------- nginx

/** The test-only frame: pid, logs and temp paths in the temp dir; the site is the template's. */
export function nginxFrame(dir: string, siteFile: string): string {
  const user = runningAsRoot() ? [`user ${userInfo().username};`] : [];
  return [
    '# Test frame (spec/proxy/support.ts) around the site rendered from spec/proxy/configs.ts.',
    ...user,
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} notice;`,
    'events {',
    '    worker_connections 256;',
    '}',
    'http {',
    `    access_log ${join(dir, 'access.log')};`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${join(dir, t)};`),
    `    include ${siteFile};`,
    '}',
    '',
  ].join('\n');
}

export const nginx: ProxyKind = {
  name: 'nginx',
  binary: 'nginx',
  async start(members, timeoutSeconds) {
    const bin = installedBinary('nginx');
    return launch('nginx', 'nginx.conf', {
      site: (port) => renderNginxSite(testSite(port, members, timeoutSeconds)),
      frame: ({ dir, siteFile }) => nginxFrame(dir, siteFile),
      // -e: the log of the time before the config is read (1.19.5+); -p: relative paths.
      run: ({ dir, configFile, errorLog }) =>
        spawn(bin, ['-p', dir, '-c', configFile, '-e', errorLog, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } }),
    });
  },
};

// ---------------------------------------------------------------- lifecycle

/** Where a proxy's files are: all in its own temp dir. */
interface ProxyFiles {
  dir: string;
  port: number;
  siteFile: string;
  configFile: string;
  errorLog: string;
}

/** How to start one kind of proxy: its site file (the template's), the test frame around it, the command. */
interface ProxyLaunch {
  site(port: number): string;
  frame(files: ProxyFiles): string;
  run(files: ProxyFiles): ChildProcess;
}

/** Writes the site and frame files into a new temp dir, starts the proxy, and waits until its port accepts TCP. */
async function launch(kind: ProxyKindName, configName: string, how: ProxyLaunch): Promise<ProxyProcess> {
  const dir = makeDir(kind);
  const port = await freePort();
  const files: ProxyFiles = { dir, port, siteFile: join(dir, 'wsmesh.conf'), configFile: join(dir, configName), errorLog: join(dir, 'error.log') };
  const { siteFile, configFile, errorLog } = files;
  writeFileSync(siteFile, how.site(port));
  writeFileSync(configFile, how.frame(files));
  const output: string[] = [];
  const child = how.run(files);
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const diagnostics = () => {
    const log = existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '(no error log)';
    return `${kind} output:\n${output.join('')}\n${kind} error log (${errorLog}):\n${log}`;
  };
  let stopped = false;
  const proxy: ProxyProcess = {
    kind,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    dir,
    siteFile,
    configFile,
    diagnostics,
    async stop() {
      if (stopped) return;
      stopped = true;
      running.delete(proxy);
      // SIGTERM: both stop at once (closing their children); SIGKILL if they hang.
      await stopChild(child, 'SIGTERM', STOP_TIMEOUT_MS);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(proxy);
  const deadline = Date.now() + START_TIMEOUT_MS;
  if (!(await waitForPort(port, () => hasExited(child) || Date.now() > deadline))) {
    const why = hasExited(child) ? `exited (${child.exitCode ?? child.signalCode})` : `not listening within ${START_TIMEOUT_MS} ms`;
    const text = diagnostics();
    await proxy.stop();
    throw new Error(`${kind} ${why}:\n${text}`);
  }
  return proxy;
}

/** Stops every proxy still running and removes its temp dir. */
export async function stopAllProxies(): Promise<void> {
  await Promise.all([...running].map((proxy) => proxy.stop()));
}

// ---------------------------------------------------------------- HTTP from a chosen address

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  setCookies: string[];
  text: string;
  body: any;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** The client's source address (any of 127.0.0.0/8 works on Linux loopback). */
  localAddress?: string;
  timeoutMs?: number;
}

/** One HTTP request with `node:http` (fetch cannot pick its source address). */
export function http(url: string, options: HttpOptions = {}): Promise<HttpAnswer> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers, localAddress: options.localAddress, agent: false, timeout: options.timeoutMs ?? 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, setCookies: res.headers['set-cookie'] ?? [], text, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${url}: no answer within ${options.timeoutMs ?? 5000} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The route of a `JSESSIONID=<random>.<route>` cookie, read as Apache does: after the first ".". */
export function routeOf(jsessionId: string): string {
  const dot = jsessionId.indexOf('.');
  return dot < 0 ? '' : jsessionId.slice(dot + 1);
}
