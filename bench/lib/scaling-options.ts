/**
 * Command-line options of the handshake-scaling benchmark (bench/handshake-scaling.ts).
 */
import { integer, parseFlags, UsageError, type FlagSpec } from './flags.ts';

export interface ScalingOptions {
  /** Sockets already open (fillers) while the probe batch is measured, ascending. */
  levels: number[];
  /** Sockets of the probe batch: opened (timed), then closed (timed), at each level. */
  probe: number;
  /** Probe rounds per level; the table shows the median of each rate. */
  rounds: number;
  /** Unmeasured probe rounds before the first level's (a cold server would flatter the ratios). */
  warmup: number;
  /** Handshakes in flight (probe and fillers). */
  concurrency: number;
  /** Users holding the filler sockets (filler i belongs to filler user i mod K). */
  users: number;
  /** Sockets of each probe user: the probe's per-user work is the same at every level. */
  probePerUser: number;
  /** Logins in flight (scrypt on the server). */
  loginConcurrency: number;
  /** Seconds to wait for a batch to open or for the server to drop it. */
  timeout: number;
  /** Extra wsmesh flags, e.g. `--websockets.pingInterval 600000`. */
  serverArgs: string[];
}

export const DEFAULTS: ScalingOptions = {
  levels: [1000, 10_000, 25_000, 50_000],
  probe: 2000,
  rounds: 5,
  warmup: 3,
  concurrency: 64,
  users: 500,
  probePerUser: 8,
  loginConcurrency: 4,
  timeout: 60,
  serverArgs: [],
};

export const QUICK: Partial<ScalingOptions> = { levels: [1000, 5000], users: 100, rounds: 3, warmup: 2 };

export const USAGE = `Usage: npx tsx bench/handshake-scaling.ts [--quick] [options]

One wsmesh node (child process, embedded broker). At each level of already-open
sockets, a probe batch of P sockets is opened (handshakes/s, C in flight) and
closed (closes/s: from the first client close until GET /api/admin/stats shows the
server's index dropped them all), R times. After the highest level the fillers are
closed and the lowest level is measured again. Reports each rate as a ratio to the
lowest level's; the requirement: the rates with 50k open sockets are within 80% of
those with 1k. Exit status 1 when the requirement does not hold (or the run fails).
Needs an open-file limit (ulimit -n) above the highest level + P + 300.

  --quick                 small run: levels ${QUICK.levels!.join(',')}, ${QUICK.users} filler users, ${QUICK.rounds} rounds, ${QUICK.warmup} warm-up
  --levels A,B,...        open sockets before each probe, ascending (default ${DEFAULTS.levels.join(',')})
  --probe P               sockets of the probe batch (default ${DEFAULTS.probe})
  --rounds R              probe rounds per level, median reported (default ${DEFAULTS.rounds})
  --warmup W              unmeasured probe rounds before the first level's (default ${DEFAULTS.warmup})
  --concurrency C         handshakes in flight (default ${DEFAULTS.concurrency})
  --users K               users holding the filler sockets, one login each (default ${DEFAULTS.users})
  --probe-per-user S      probe sockets per probe user, P/S extra logins (default ${DEFAULTS.probePerUser})
  --login-concurrency L   logins in flight (default ${DEFAULTS.loginConcurrency})
  --timeout S             seconds to wait for a batch to open or be dropped (default ${DEFAULTS.timeout})
  --server-args="FLAGS"   extra wsmesh flags, split on spaces (e.g. --server-args="--websockets.pingInterval 600000")
  -h, --help              this text

Server flags for profiling: BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
`;

const FLAGS: FlagSpec<ScalingOptions, 'levels' | 'server-args'> = {
  defaults: DEFAULTS,
  quick: QUICK,
  integers: [
    ['probe', 'probe', 1],
    ['rounds', 'rounds', 1],
    ['warmup', 'warmup', 0],
    ['concurrency', 'concurrency', 1],
    ['users', 'users', 1],
    ['probe-per-user', 'probePerUser', 1],
    ['login-concurrency', 'loginConcurrency', 1],
    ['timeout', 'timeout', 1],
  ],
  strings: ['levels', 'server-args'],
};

/** The options, or `undefined` when help was asked for. Throws `UsageError`. */
export function parseScalingOptions(argv: readonly string[]): ScalingOptions | undefined {
  const parsed = parseFlags(argv, FLAGS);
  if (!parsed) return undefined;
  const { options, strings } = parsed;
  if (strings.levels !== undefined) options.levels = strings.levels.split(',').map((raw) => integer('--levels', raw.trim(), 0));
  if (strings['server-args'] !== undefined) options.serverArgs = strings['server-args'].split(' ').filter(Boolean);
  if (options.levels.length === 0) throw new UsageError('--levels needs at least one level');
  if (options.levels.some((level, i) => i > 0 && level <= options.levels[i - 1])) {
    throw new UsageError(`--levels must be strictly ascending, got ${options.levels.join(',')}`);
  }
  if (options.levels.at(-1)! > 0 && options.users > options.levels.at(-1)!) {
    throw new UsageError(`--users (${options.users}) must not exceed the highest level (${options.levels.at(-1)}): every filler user needs a socket`);
  }
  return options;
}
