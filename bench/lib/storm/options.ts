/**
 * Command-line options of the reconnect storm (bench/storm.ts).
 */
import { parseFlags, UsageError, type FlagSpec } from '../flags.ts';

export interface StormOptions {
  /** Sockets open on node A before the drop. */
  sockets: number;
  /** 1: everyone reconnects to A; 2: the balancers send new connections to A and B in turn. */
  nodes: number;
  /** Client worker processes the sockets are spread over. */
  clients: number;
  /** Users logged in; socket j uses user j mod K's session. */
  users: number;
  /** Handshakes in flight per worker while the sockets first open. */
  concurrency: number;
  /** Every client must be open again within this many seconds of the drop. */
  within: number;
  /** `/healthz` must answer within this many ms. */
  healthzLimit: number;
  /** Milliseconds between two health probes of a node. */
  probeInterval: number;
  /** Run src/main.ts through tsx instead of building dist/ (the timing suite). */
  fromSource: boolean;
  /** CPU niceness of the client workers and their balancers (0: the same priority as the nodes). */
  clientNice: number;
}

export const DEFAULTS: StormOptions = {
  sockets: 15_000,
  nodes: 1,
  clients: 3,
  users: 300,
  concurrency: 32,
  within: 30,
  healthzLimit: 100,
  probeInterval: 50,
  fromSource: false,
  clientNice: 10,
};

export const QUICK: Partial<StormOptions> = { sockets: 2000, users: 100, clients: 2 };

export const USAGE = `Usage: npm run storm -- [--quick] [options]

Reconnect storm: N authenticated sockets on node A (plain ws clients in K worker
processes, each worker behind a TCP balancer of its own) lose their connections at
once (every balancer cuts them) and reconnect with socket.io-client's backoff (1 s,
x2, at most 5 s, jitter 0.5), to A alone or to A and B in turn (--nodes 2; B joins
A's embedded broker). Checks: every client back within --within s; /healthz of every
node answered within --healthz-limit ms throughout (probed every --probe-interval
ms from a process of its own); one push per user reaches every socket once after
the storm; once the clients are gone, sockets, connection actors, registry rows,
handles and timers are back to their counts before the run. Prints the figures
(reconnect p50/p99/last, healthz p50/p99/max and answers over the limit, event-loop
lag p99 and max of each node). Exit status 1 when a check fails.

  --quick                 small run: ${QUICK.sockets} sockets, ${QUICK.users} users, ${QUICK.clients} workers
  --sockets N             sockets (default ${DEFAULTS.sockets})
  --nodes 1|2             reconnect to A only, or to A and B (default ${DEFAULTS.nodes})
  --clients K             client worker processes (default ${DEFAULTS.clients}); each holds 2 descriptors per socket
  --users U               users logged in, sessions shared by their sockets (default ${DEFAULTS.users})
  --concurrency C         handshakes in flight per worker while opening (default ${DEFAULTS.concurrency})
  --within S              seconds every client has to be back (default ${DEFAULTS.within})
  --healthz-limit MS      slowest acceptable /healthz answer (default ${DEFAULTS.healthzLimit})
  --probe-interval MS     time between two health probes of a node (default ${DEFAULTS.probeInterval})
  --client-nice N         CPU niceness of the client workers and their balancers, 0-19
                          (default ${DEFAULTS.clientNice}): they stand in for browsers on other
                          machines, so they take the CPU the nodes leave; 0 shares it equally
  --from-source           run src/main.ts through tsx, no build (the timing suite's way)
  -h, --help              this text
`;

const FLAGS: FlagSpec<StormOptions> = {
  defaults: DEFAULTS,
  quick: QUICK,
  integers: [
    ['sockets', 'sockets', 1],
    ['nodes', 'nodes', 1],
    ['clients', 'clients', 1],
    ['users', 'users', 1],
    ['concurrency', 'concurrency', 1],
    ['within', 'within', 1],
    ['healthz-limit', 'healthzLimit', 1],
    ['probe-interval', 'probeInterval', 10],
    ['client-nice', 'clientNice', 0],
  ],
  switches: [['from-source', 'fromSource']],
};

export function parseStormOptions(argv: readonly string[]): StormOptions | undefined {
  const parsed = parseFlags(argv, FLAGS);
  if (!parsed) return undefined;
  const { options } = parsed;
  if (options.clientNice > 19) throw new UsageError(`--client-nice must be 0 to 19, got ${options.clientNice}`);
  if (options.nodes > 2) throw new UsageError(`--nodes must be 1 or 2, got ${options.nodes}`);
  if (options.clients > options.sockets) throw new UsageError(`--clients (${options.clients}) must not exceed --sockets (${options.sockets})`);
  if (options.users > options.sockets) throw new UsageError(`--users (${options.users}) must not exceed --sockets (${options.sockets}): every user needs a socket`);
  return options;
}
