/**
 * The convict schema of wsmesh: one entry per key, with its format, default, and
 * the environment variable and short flag that set it. A new key (say
 * `cluster.broker` with `--broker`) is one entry here plus its field in
 * `types.ts`; env names, generic flags, `--help` and `.properties` keys follow.
 *
 * Naming rule: every key is settable by
 * - the generic flag `--<dotted.key>` (e.g. `--websockets.maxSocketsPerUser 3`),
 *   plus its short `arg` flag when it has one (`--port`);
 * - its `env` variable, or else the generic one: `WSMESH_` + the path with dots
 *   as `_` and camelCase split (`websockets.remote.delayDuration` ->
 *   `WSMESH_WEBSOCKETS_REMOTE_DELAY_DURATION`).
 */
import convict from 'convict';
import { FORMATS, type FormatName, type FormatParams } from './formats.ts';
import type { Config } from './types.ts';

export interface SchemaEntry extends FormatParams {
  doc: string;
  format: FormatName;
  default: unknown;
  env?: string;
  /** Short flag name without `--`; the generic `--<dotted.key>` is always accepted too. */
  arg?: string;
  /** Never echoed in errors or convict's `toString()`. */
  sensitive?: boolean;
}

/** Mirrors `Config`, so a key missing from the schema (or a wrong default type) fails to compile. */
export type SchemaTree<T> = {
  [K in keyof T]: T[K] extends readonly unknown[] ? SchemaEntry & { default: T[K] } : T[K] extends object ? SchemaTree<T[K]> : SchemaEntry & { default: T[K] };
};

const TOKEN_CHARS = "letters, digits, '_' and '-'";

export const SCHEMA: SchemaTree<Config> = {
  server: {
    host: { doc: 'Address to listen on.', format: 'text', pattern: /^\S+$/, hint: 'a host name or IP address', default: '0.0.0.0', env: 'WSMESH_HOST', arg: 'host' },
    port: { doc: 'TCP port to listen on.', format: 'tcp-port', default: 8009, env: 'WSMESH_PORT', arg: 'port' },
    route: {
      doc: 'Route suffix of the JSESSIONID cookie (<random>.<route>) read by sticky proxies; empty means the node id.',
      format: 'text',
      pattern: /^[A-Za-z0-9_-]*$/,
      hint: `${TOKEN_CHARS} only`,
      default: '',
      env: 'WSMESH_ROUTE',
      arg: 'route',
    },
    shutdownTimeout: { doc: 'Milliseconds to wait, after the last drain close, for clients to finish their close handshake; then the rest are dropped.', format: 'int-range', min: 0, default: 10000 },
    drainDuration: {
      doc: 'On SIGTERM, milliseconds over which the 1001 closes of the sockets are spread evenly, so clients do not all reconnect in the same second.',
      format: 'int-range',
      min: 0,
      default: 10000,
    },
    trustProxy: {
      doc: 'Behind a reverse proxy: the client address is the X-Forwarded-For entry added by the nearest trusted proxy (so the session IP check works), not the proxy\'s own address.',
      format: 'bool',
      default: false,
      env: 'WSMESH_TRUST_PROXY',
      arg: 'trust-proxy',
    },
    proxyHops: {
      doc: 'Trusted proxies in front of the node, each appending to X-Forwarded-For; the client address is this many entries from the right. Entries further left were sent by the client and are ignored.',
      format: 'int-range',
      min: 1,
      max: 10,
      default: 1,
    },
    trustedProxies: {
      doc: 'Addresses of the proxies whose X-Forwarded-* headers are believed (with trustProxy); empty believes any peer, so then nodes must be reachable only through the proxy.',
      format: 'list',
      default: [],
    },
    headersTimeout: {
      doc:
        "Milliseconds a client has to send a request's headers (an upgrade's included), counted from the connection's opening (on a kept-alive connection, from the request's first byte); past it Node answers a bare 408 and closes. Node's default, 60 s, lets half-open requests (slowloris) hold a file descriptor each for a minute; a real client sends its headers in one packet, and 5 s leaves room for a slow mobile link. Enforced at most a tenth of it (100 ms to 1 s) late.",
      format: 'int-range',
      min: 100,
      default: 5000,
    },
    requestTimeout: {
      doc: "Milliseconds a client has to send a whole request, headers and body; past it Node answers a bare 408 and closes. The largest body (a 1 MiB push) takes well under 10 s; an open socket is no longer a request and is not limited. At least server.headersTimeout.",
      format: 'int-range',
      min: 100,
      default: 10000,
    },
    admissionSlice: {
      doc:
        "Milliseconds of WebSocket upgrades and socket closes a node handles in one turn of its event loop before it reads its other connections again: they wait in one queue, in their order of arrival. In a reconnect storm thousands arrive at once, and handled where they arrive they held the loop, /healthz and every other request with it, for seconds. The same bound applies to the packets of one read from the broker (a burst of deliveries). 0 handles each as it arrives.",
      format: 'int-range',
      min: 0,
      max: 1000,
      default: 5,
    },
    backlog: {
      doc:
        "Connections the kernel may hold accepted for the node before it takes them (listen(2)'s backlog; Linux caps it at net.core.somaxconn, and the node warns when it does). Node's own default, 511, overflowed in a reconnect storm of 15,000 clients: a connection past it waits for TCP to retry (1, 3, 7 s ...), and 1,308 handshakes timed out. Read at start.",
      format: 'int-range',
      min: 1,
      max: 65535,
      default: 4096,
    },
  },
  node: {
    id: {
      doc: 'Node id, unique in the cluster; empty means <hostname>-<port>.',
      format: 'text',
      pattern: /^[A-Za-z0-9_-]{0,64}$/,
      hint: `at most 64 ${TOKEN_CHARS}`,
      default: '',
      env: 'WSMESH_NODE_ID',
      arg: 'node-id',
    },
  },
  session: {
    maxAge: { doc: 'Session lifetime in milliseconds.', format: 'int-range', min: 1, default: 3600000 },
    ipCheck: { doc: 'Reject a session used from another client IP.', format: 'bool', default: true },
    cookieName: {
      doc: 'Name of the session secret cookie.',
      format: 'text',
      // RFC 6265 section 4.1.1: cookie-name is an RFC 7230 token.
      pattern: /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/,
      hint: 'a cookie name token (RFC 6265)',
      default: 'wsmesh-secret',
    },
    keys: {
      doc: 'Cookie signing keys, the first signs and all verify; empty generates one per process (a cluster needs them set).',
      format: 'list',
      default: [],
      sensitive: true,
    },
  },
  websockets: {
    enabled: { doc: 'Accept WebSocket upgrades.', format: 'bool', default: true },
    paths: { doc: 'URL paths accepting upgrades.', format: 'path-list', default: ['/ws', '/socket.io'] },
    maxSocketsPerUser: { doc: 'Open sockets allowed per user, counted over every node of the cluster.', format: 'int-range', min: 1, default: 8 },
    allowedOrigins: { doc: 'Origins allowed to connect, besides the same origin; empty allows the same origin only.', format: 'origin-list', default: [] },
    pingInterval: { doc: 'Milliseconds between pings.', format: 'int-range', min: 1, default: 25000 },
    pingTimeout: { doc: 'Milliseconds to wait for a pong.', format: 'int-range', min: 1, default: 20000 },
    maxPayload: { doc: 'Largest accepted frame, in bytes.', format: 'int-range', min: 1, default: 65536 },
    maxBufferedBytes: { doc: 'Bytes buffered for a slow socket before it is closed.', format: 'int-range', min: 1, default: 1048576 },
    dedupWindow: {
      doc: 'Milliseconds a message id is remembered: a push repeating an id accepted by any node within it answers duplicate and is delivered to nobody again; a node delivers an id once within it.',
      format: 'int-range',
      min: 1,
      default: 300000,
    },
    history: {
      size: {
        doc: "Messages kept per user per origin (a node process) for clients that reconnect (`since=` on the raw protocol's envelope, Socket.IO's connection state recovery); 0 turns history off. Kept on the broker as retained messages (docs/protocol.md, \"Recovery\").",
        format: 'int-range',
        min: 0,
        max: 10000,
        default: 100,
      },
      ttl: {
        doc: 'Milliseconds a kept message stays recoverable: a client away longer, since its last message or the start of its stream, reloads its state (recovered:false).',
        format: 'int-range',
        min: 1000,
        default: 300000,
      },
    },
    remote: {
      delayDuration: { doc: 'Milliseconds a remote message waits to be coalesced.', format: 'int-range', min: 0, default: 1000 },
      maxDelayDuration: { doc: 'Longest total delay of a coalesced remote message, in milliseconds.', format: 'int-range', min: 0, default: 3000 },
      timerFrequency: { doc: 'Milliseconds between flushes of the remote buffer.', format: 'int-range', min: 1, default: 500 },
    },
  },
  cluster: {
    broker: {
      doc: 'MQTT broker carrying cross-node traffic: embedded (in-process, on cluster.embedded.*), a URL (mqtt://, mqtts://, ws://, wss://), or the comma-separated URLs of the servers of one clustered broker (tried in turn, failing over).',
      format: 'text',
      pattern: /^(embedded|(mqtts?|wss?):\/\/[^\s,]+(\s*,\s*(mqtts?|wss?):\/\/[^\s,]+)*)$/,
      hint: 'embedded, a URL such as mqtt://broker:1883, or URLs separated by commas',
      default: 'embedded',
      env: 'WSMESH_BROKER',
      arg: 'broker',
    },
    name: { doc: 'Cluster name: the prefix of every topic, so clusters can share a broker.', format: 'text', pattern: /^[A-Za-z0-9_-]{1,64}$/, hint: `1 to 64 ${TOKEN_CHARS}`, default: 'wsmesh' },
    username: { doc: 'Broker user name; empty connects without one.', format: 'text', default: '' },
    password: { doc: 'Broker password.', format: 'text', default: '', sensitive: true, env: 'WSMESH_BROKER_PASSWORD' },
    passwordFile: { doc: 'File whose first line is the broker password; wins over cluster.password.', format: 'text', default: '' },
    secret: {
      doc: 'Key that seals every node-internal message (HMAC-SHA256), the same on every node; empty derives it from the first session.keys entry. A client of the broker without it can forge nothing.',
      format: 'text',
      default: '',
      sensitive: true,
      env: 'WSMESH_CLUSTER_SECRET',
    },
    syncTimeout: {
      doc: 'Longest wait, in milliseconds, for the broker to confirm what read-your-writes needs (a barrier before a session lookup, the subscription before a 101, the acknowledgement of a login), and for a session record still missing after the barrier (a broker may send one late); past it the node answers from what it knows.',
      format: 'int-range',
      min: 1,
      default: 2000,
    },
    fastPath: {
      doc: "Also subscribe at QoS 0 to each user's delivery topic and to the session topics, so each such message reaches the node twice: through the broker's plain routing and through the QoS 1 subscription (which covers a reconnect); the second copy is dropped by its id or applied idempotently. For NATS 2.9.10, whose JetStream path holds QoS 1 messages back and loses a few when a server dies (docs/cluster.md); costs a second copy per message.",
      format: 'bool',
      default: false,
    },
    keepalive: { doc: 'MQTT keepalive in seconds; the broker declares a silent node dead after 1.5 times this.', format: 'int-range', min: 1, max: 65535, default: 10 },
    outboxLimit: {
      doc: 'Cross-node publishes held while the broker is unreachable; the overflow is dropped, counted and logged. Also bounds the delivery publishes a node keeps until the other nodes confirm them (cluster.confirmTimeout): past it the oldest is let go, and counted as dropped (unconfirmed) when a node still owed its receipt.',
      format: 'int-range',
      min: 0,
      default: 10000,
    },
    confirmTimeout: {
      doc: "Longest time, in milliseconds, a node keeps a delivery it published to other nodes, sending it again, until every node that held a socket of the user confirms it got it (a broker may acknowledge a message and die before passing it on; docs/reliability.md). Past it the delivery is given up: counted as dropped (unconfirmed) and logged with the nodes that did not confirm. Keep it below websockets.dedupWindow, which is how long receivers recognise a repeat.",
      format: 'int-range',
      min: 1000,
      default: 60000,
    },
    embedded: {
      host: { doc: 'Address the embedded broker listens on.', format: 'text', pattern: /^\S+$/, hint: 'a host name or IP address', default: '127.0.0.1' },
      port: { doc: 'Port the embedded broker listens on.', format: 'tcp-port', default: 1883, arg: 'broker-port' },
      allowAnonymous: {
        doc: 'Let clients without a user name and password connect to the embedded broker; otherwise only the hosting node\'s own cluster.username/cluster.password pair is accepted.',
        format: 'bool',
        default: false,
      },
    },
  },
  auth: {
    proxy: {
      url: {
        doc: "The application's connect endpoint: an upgrade without a wsmesh session (and without a token) is POSTed there as JSON, and the app answers who the user is (docs/auth.md). Empty: off.",
        format: 'text',
        pattern: /^(|https?:\/\/\S+)$/,
        hint: 'an http:// or https:// URL, or empty',
        default: '',
      },
      timeout: { doc: 'Milliseconds to wait for the connect proxy; past it the upgrade is refused with 503 ERR_AUTH_UNAVAILABLE.', format: 'int-range', min: 1, default: 2000 },
      headers: {
        doc: 'Request headers of the upgrade passed on to the connect proxy (names, case-insensitive).',
        format: 'list',
        default: ['cookie', 'authorization', 'user-agent', 'accept-language'],
      },
      cacheTtl: {
        doc: "Milliseconds the connect proxy's 200 answer is cached per identical credentials (the headers passed on and the query); 0 asks on every upgrade. A 401 or 403 is never cached.",
        format: 'int-range',
        min: 0,
        default: 0,
      },
    },
    jwt: {
      secret: { doc: 'Shared secret of HS256/HS384/HS512 tokens; empty: none.', format: 'text', default: '', sensitive: true, env: 'WSMESH_JWT_SECRET' },
      publicKeyFile: { doc: 'PEM file of the public key of RS256, PS256, ES256 or EdDSA tokens; empty: none.', format: 'text', default: '' },
      jwksUrl: { doc: 'JWKS endpoint of the token signing keys (cached; fetched again for an unknown kid, at most once per 30 s); empty: none.', format: 'text', pattern: /^(|https?:\/\/\S+)$/, hint: 'an http:// or https:// URL, or empty', default: '' },
      issuer: { doc: 'Required iss of tokens; empty: not checked.', format: 'text', default: '' },
      audience: { doc: 'Required aud of tokens; empty: not checked.', format: 'text', default: '' },
      clockTolerance: { doc: 'Seconds of clock skew allowed when checking exp and nbf; a socket opened with a token closes this long after the token expires.', format: 'int-range', min: 0, default: 30 },
      contextClaim: { doc: 'The claim holding the context id (a positive integer); sub holds the user id.', format: 'text', pattern: /^\S+$/, hint: 'a claim name', default: 'ctx' },
      cookie: { doc: 'A cookie the token may come in, besides ?token=; empty: none.', format: 'text', default: '' },
    },
  },
  mqtt: {
    accountsFile: {
      doc: 'Broker accounts of devices, backends and nodes (JSON: {"accounts": [{"id", "kind", "password", ...}]}, passwords are scrypt hashes, docs/iot.md); reloaded when it changes. The embedded broker enforces them; `wsmesh broker acl` writes Mosquitto and NATS files from it. Empty: no accounts besides the nodes\' own pair.',
      format: 'text',
      default: '',
    },
    egress: {
      doc: 'Publish every text frame a client sends (QoS 1) to <cluster.name>/egress/<contextId>/<userId>/<connectionId>, for backends subscribed to <cluster.name>/egress/#. What cannot be queued within cluster.outboxLimit is dropped and counted.',
      format: 'bool',
      default: false,
    },
    maxPayload: { doc: 'Largest MQTT ingress message delivered to sockets, in bytes; larger ones are dropped and counted.', format: 'int-range', min: 1, default: 65536 },
    ingressQos: {
      doc: 'QoS of the nodes\' ingress subscriptions. 1: a node whose broker link drops gets what it missed when it is back (a persistent session). 0: nothing is queued for an absent node; on NATS 2.9.10 no JetStream consumer, whose MQTT QoS 1 path lost ingress messages under load (docs/iot.md): use 0 there.',
      format: 'int-range',
      min: 0,
      max: 1,
      default: 1,
    },
    ingressSubscription: {
      doc: "How a node subscribes to ingress: 'user', each user's ingress topics while it holds a socket of the user (the broker sends a message only to those nodes); 'node', the whole ingress subtree once (every node receives every message: no subscription per user, which on NATS is two JetStream consumers each). docs/iot.md has the measured trade-off.",
      format: 'one-of',
      values: ['user', 'node'],
      default: 'user',
    },
  },
  directory: {
    file: { doc: 'User directory file (JSON).', format: 'text', pattern: /\S/, hint: 'a file path', default: 'config/directory.json' },
  },
  admin: {
    token: { doc: 'Bearer token of the admin API; empty generates one at start.', format: 'text', default: '', env: 'WSMESH_ADMIN_TOKEN', sensitive: true },
  },
  metrics: {
    token: { doc: 'Bearer token GET /metrics requires; empty leaves it open (then keep /metrics off public proxies).', format: 'text', default: '', sensitive: true, env: 'WSMESH_METRICS_TOKEN' },
  },
  trace: {
    size: {
      doc: 'Messages whose delivery trace each node keeps (GET /api/admin/trace/<id>, wsmesh trace): the last this many it saw; ids, times, connection ids and reasons only, never the message. 0: none.',
      format: 'int-range',
      min: 0,
      default: 10000,
    },
    keep: {
      doc: 'Messages pushed with "trace": true whose trace each node keeps apart from trace.size, so that the stream of other messages does not evict them: the last this many.',
      format: 'int-range',
      min: 0,
      default: 1000,
    },
  },
  log: {
    level: { doc: 'Lowest level logged.', format: 'one-of', values: ['debug', 'info', 'warn', 'error'], default: 'info', env: 'WSMESH_LOG_LEVEL', arg: 'log-level' },
  },
};

/** A schema key with its resolved env variable and flags. */
export interface KeySpec {
  key: string;
  entry: SchemaEntry;
  env: string;
  /** Accepted flags, `--` included: the short one first, then the generic one. */
  flags: string[];
}

/** `websockets.remote.delayDuration` -> `WSMESH_WEBSOCKETS_REMOTE_DELAY_DURATION`. */
export function genericEnvName(key: string): string {
  return 'WSMESH_' + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/\./g, '_').toUpperCase();
}

function isEntry(node: object): node is SchemaEntry {
  return 'default' in node;
}

function collect(tree: object, prefix: string, out: Map<string, KeySpec>): void {
  for (const [name, node] of Object.entries(tree)) {
    const key = prefix + name;
    if (!isEntry(node)) {
      collect(node, key + '.', out);
      continue;
    }
    const flags = node.arg ? [`--${node.arg}`, `--${key}`] : [`--${key}`];
    out.set(key, { key, entry: node, env: node.env ?? genericEnvName(key), flags });
  }
}

function collectKeys(): ReadonlyMap<string, KeySpec> {
  const keys = new Map<string, KeySpec>();
  collect(SCHEMA, '', keys);
  return keys;
}

/** Every key of the schema, in schema order. */
export const KEYS: ReadonlyMap<string, KeySpec> = collectKeys();

/** True when `prefix` is a section (`websockets`, `websockets.remote`) of some key. */
export function isSection(prefix: string): boolean {
  for (const key of KEYS.keys()) if (key.startsWith(prefix + '.')) return true;
  return false;
}

/** The typed value of `raw` (from env, a flag or a `.properties` file) for `key`. */
export function coerce(key: string, raw: string): unknown {
  const spec = KEYS.get(key);
  return spec ? FORMATS[spec.entry.format].coerce(raw) : raw;
}

/** Throws an `Error` saying what `value` must be when it is invalid for `key`. */
export function validateValue(key: string, value: unknown): void {
  const spec = KEYS.get(key);
  if (!spec) throw new Error('is not a configuration key');
  FORMATS[spec.entry.format].validate(value, spec.entry);
}

/** A rule across keys; `check` returns why `key` is invalid, or undefined. */
export interface CrossKeyRule {
  key: string;
  /** Other keys the rule reads, so an error can name where they came from. */
  related: string[];
  check(config: Config, describe: (key: string) => string): string | undefined;
}

export const RULES: readonly CrossKeyRule[] = [
  {
    // Node refuses to start a server whose headers timeout is longer than its request timeout.
    key: 'server.headersTimeout',
    related: ['server.requestTimeout'],
    check: ({ server }, describe) => (server.headersTimeout > server.requestTimeout ? `must not exceed ${describe('server.requestTimeout')}` : undefined),
  },
  {
    key: 'websockets.remote.delayDuration',
    related: ['websockets.remote.maxDelayDuration'],
    check: ({ websockets: { remote } }, describe) =>
      remote.delayDuration > remote.maxDelayDuration ? `must not exceed ${describe('websockets.remote.maxDelayDuration')}` : undefined,
  },
];

let registered = false;

/**
 * A convict store holding the defaults. Convict is handed an empty env and argv:
 * `load.ts` applies every source itself, so it knows which one set each key.
 */
export function createStore(): convict.Config<Config> {
  if (!registered) {
    for (const [name, format] of Object.entries(FORMATS)) {
      convict.addFormat({ name, validate: (value, entry) => format.validate(value, entry as FormatParams), coerce: format.coerce });
    }
    registered = true;
  }
  return convict<Config>(SCHEMA as unknown as convict.Schema<Config>, { env: {}, args: [] });
}
