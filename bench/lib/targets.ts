/**
 * The servers the bench compares. All speak the same contract (login with a cookie,
 * a socket per session, a push over HTTP); they differ in how they start, in the
 * push request, and in the socket's framing (plain frames, or Socket.IO's).
 */
import { wsmeshEntry } from './build.ts';
import type { ServerSpec } from './children.ts';
import { plainFrames, socketIoFrames, type ClientProtocol } from './client-protocol.ts';
import type { JsonRequest } from './http.ts';
import { CONTEXT_ID, type BenchUser } from './directory.ts';

export interface TargetSetup {
  port: number;
  directoryFile: string;
  adminToken: string;
  repoRoot: string;
}

export interface Target {
  /** As printed in the table. */
  name: string;
  serverSpec(setup: TargetSetup): ServerSpec;
  pushRequest(user: BenchUser, message: string, adminToken: string): JsonRequest;
  /** What its clients speak on the socket. */
  client: ClientProtocol;
}

export { SOCKET_PATH } from './client-protocol.ts';
export const LOGIN_PATH = '/api/login';

/**
 * Extra node flags for both servers, e.g. `BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`
 * (node refuses --cpu-prof in NODE_OPTIONS). Split on spaces.
 */
function nodeArgs(): string[] {
  return (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

/**
 * Extra wsmesh flags, appended after the target's own (so they win over them; cross-node's
 * per-node flags come after these), e.g.
 * `BENCH_WSMESH_ARGS="--websockets.history.size 0"`: the bench strips WSMESH_* from the
 * servers' environment, so configuration reaches wsmesh this way. Split on spaces.
 */
export function wsmeshExtraArgs(): string[] {
  return (process.env.BENCH_WSMESH_ARGS ?? '').split(' ').filter(Boolean);
}

/** The environment without any WSMESH_* variable of the caller's shell: only the bench's settings count. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('WSMESH_')) env[key] = value;
  return { ...env, ...extra };
}

/**
 * What `npm start` sets for the node (package.json): a fixed glibc mmap threshold, so
 * the 16 MiB buffers of each scrypt login go back to the system when freed instead
 * of staying in the thread pool's malloc arenas (measured: RSS before any socket
 * 195 -> 101 MiB after 100 logins; docs/operations.md, "Memory").
 */
const NODE_ENV_OF_NPM_START = { MALLOC_MMAP_THRESHOLD_: '131072' };

export const wsmesh: Target = {
  name: 'wsmesh',
  serverSpec: ({ port, directoryFile, adminToken, repoRoot }) => ({
    name: 'wsmesh',
    cwd: repoRoot,
    port,
    healthPath: '/healthz',
    env: cleanEnv({ WSMESH_ADMIN_TOKEN: adminToken, ...NODE_ENV_OF_NPM_START }),
    args: [
      ...nodeArgs(),
      ...wsmeshEntry(repoRoot),
      '--host', '127.0.0.1',
      '--port', String(port),
      '--directory.file', directoryFile,
      // Every bench socket of a user must be admitted: N/K of them, far above the default 8.
      '--websockets.maxSocketsPerUser', '1000000',
      '--log.level', 'warn',
      ...wsmeshExtraArgs(),
    ],
  }),
  pushRequest: (user, message, adminToken) => ({
    method: 'POST',
    path: '/api/push',
    headers: { authorization: `Bearer ${adminToken}` },
    body: { contextId: CONTEXT_ID, userId: user.id, message },
  }),
  client: plainFrames,
};

/** A bench server of bench/ (plain ws, Socket.IO) on the same command line and push request. */
function benchServer(name: string, script: string, client: Target['client'], extraArgs: string[] = []): Target {
  return {
    name,
    serverSpec: ({ port, directoryFile, repoRoot }) => ({
      name: `${name} (bench/${script}${extraArgs.length ? ` ${extraArgs.join(' ')}` : ''})`,
      cwd: repoRoot,
      port,
      healthPath: '/healthz',
      env: cleanEnv({}),
      args: [...nodeArgs(), '--import', 'tsx', `bench/${script}`, '--host', '127.0.0.1', '--port', String(port), '--directory', directoryFile, ...extraArgs],
    }),
    pushRequest: (user, message) => ({ method: 'POST', path: '/push', body: { userId: user.id, message } }),
    client,
  };
}

export const plainWs = benchServer('plain ws', 'baseline-server.ts', plainFrames);

/** The design card's floor: plain ws with one empty XState actor per socket and one event per frame. */
export const actorFloor = benchServer('ws + actor', 'baseline-server.ts', plainFrames, ['--actors']);

export const socketIo = benchServer('Socket.IO 4', 'socketio-server.ts', socketIoFrames);
