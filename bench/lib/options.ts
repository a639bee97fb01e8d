/**
 * Command-line options of the local fan-out benchmark. Defaults are sized for a
 * 2-core machine: the client load runs inside the bench process itself.
 */
import { parseFlags, UsageError, type FlagSpec } from './flags.ts';

export interface BenchOptions {
  /** N: client sockets opened on each server. */
  sockets: number;
  /** K: users (one context); the sockets are spread evenly over them. */
  users: number;
  /** M: push requests; message i goes to user i mod K. */
  messages: number;
  /** Bytes of each pushed message. */
  payload: number;
  /** Handshakes in flight while opening sockets. */
  concurrency: number;
  /** Push requests in flight. */
  inflight: number;
  /** Logins in flight (scrypt on the server: a few are enough to fill its thread pool). */
  loginConcurrency: number;
  /** Seconds to wait for the last frames once every push was answered. */
  timeout: number;
  /** Sockets and messages of an unmeasured warm-up round on each server (0: none). */
  warmup: number;
  /** Rounds, each measuring both servers (alternating); the table shows medians. */
  rounds: number;
  /** Run the baselines first (the client's JIT warms up on the first run). */
  baselineFirst: boolean;
  /** Run wsmesh from this checkout instead of this one (a before/after comparison in one run). */
  wsmeshRoot?: string;
}

export const DEFAULTS: BenchOptions = {
  sockets: 2000,
  users: 100,
  messages: 2000,
  payload: 100,
  concurrency: 50,
  inflight: 32,
  loginConcurrency: 4,
  timeout: 30,
  warmup: 500,
  rounds: 1,
  baselineFirst: false,
};

export const QUICK: Partial<BenchOptions> = { sockets: 200, users: 20, messages: 200, warmup: 50 };

export const USAGE = `Usage: npx tsx bench/local-fanout.ts [--quick] [options]

Opens N authenticated sockets on one wsmesh node, on a plain ws server and on a
Socket.IO 4 server (each a child process, one after the other), pushes M messages
over HTTP and compares handshakes/s, delivered frames/s, push requests/s and
resident memory per socket (wsmesh / plain ws, wsmesh / Socket.IO 4).

  --quick                 small run: ${QUICK.sockets} sockets, ${QUICK.users} users, ${QUICK.messages} messages
  --sockets N             client sockets (default ${DEFAULTS.sockets})
  --users K               users, one login each (default ${DEFAULTS.users})
  --messages M            push requests (default ${DEFAULTS.messages})
  --payload BYTES         message size (default ${DEFAULTS.payload})
  --concurrency C         handshakes in flight (default ${DEFAULTS.concurrency})
  --inflight F            push requests in flight (default ${DEFAULTS.inflight})
  --login-concurrency L   logins in flight (default ${DEFAULTS.loginConcurrency})
  --timeout S             seconds to wait for the last frames (default ${DEFAULTS.timeout})
  --warmup W              unmeasured warm-up round of W sockets and W messages
                          on each server first, 0 for none (default ${DEFAULTS.warmup}, quick ${QUICK.warmup})
  --rounds R              measure both servers R times, alternating, and report
                          medians (default ${DEFAULTS.rounds}; use 3+ on a busy machine)
  --baseline-first        measure plain ws and Socket.IO before wsmesh (default: wsmesh first)
  --wsmesh-root DIR       run wsmesh from the checkout DIR (npm ci done there), e.g.
                          \`git worktree add /tmp/before HEAD~3\` for a before/after run
  -h, --help              this text

Environment: BENCH_WSMESH_ARGS="--websockets.history.size 0" appends wsmesh flags (its
config keys) to the wsmesh server's command line; BENCH_SERVER_NODE_ARGS="--cpu-prof"
adds node flags to every server (bench/README.md, "Profiling").
`;

const FLAGS: FlagSpec<BenchOptions, 'wsmesh-root'> = {
  defaults: DEFAULTS,
  quick: QUICK,
  integers: [
    ['sockets', 'sockets', 1],
    ['users', 'users', 1],
    ['messages', 'messages', 1],
    ['payload', 'payload', 16],
    ['concurrency', 'concurrency', 1],
    ['inflight', 'inflight', 1],
    ['login-concurrency', 'loginConcurrency', 1],
    ['timeout', 'timeout', 1],
    ['warmup', 'warmup', 0],
    ['rounds', 'rounds', 1],
  ],
  switches: [['baseline-first', 'baselineFirst']],
  strings: ['wsmesh-root'],
};

/** The options, or `undefined` when help was asked for. Throws `UsageError`. */
export function parseOptions(argv: readonly string[]): BenchOptions | undefined {
  const parsed = parseFlags(argv, FLAGS);
  if (!parsed) return undefined;
  const options = parsed.options;
  if (parsed.strings['wsmesh-root']) options.wsmeshRoot = parsed.strings['wsmesh-root'];
  if (options.users > options.sockets) throw new UsageError(`--users (${options.users}) must not exceed --sockets (${options.sockets}): every user needs a socket`);
  return options;
}
