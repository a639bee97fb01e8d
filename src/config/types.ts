/**
 * The typed shape of wsmesh's configuration. Only `src/config` touches convict;
 * every other module receives the slice it needs, typed by these interfaces.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ServerConfig {
  host: string;
  port: number;
  /** Route suffix of the JSESSIONID cookie (`<random>.<route>`), read by sticky proxies. */
  route: string;
  shutdownTimeout: number;
  /** On SIGTERM, the sockets' 1001 closes are spread evenly over this many ms. */
  drainDuration: number;
  /** Behind a reverse proxy: take the client address from X-Forwarded-For. */
  trustProxy: boolean;
  /** How many trusted proxies append to X-Forwarded-For (the client is that many entries from the right). */
  proxyHops: number;
  /** Addresses of the proxies whose forwarded headers are believed; empty: any peer (nodes reachable only through the proxy). */
  trustedProxies: string[];
  /** Milliseconds to receive a request's headers (slowloris bound); see http-timeouts.ts. */
  headersTimeout: number;
  /** Milliseconds to receive a whole request; at least headersTimeout. */
  requestTimeout: number;
  /** Milliseconds of upgrades and socket closes handled per event-loop turn (time/sliced-queue.ts); 0: each as it arrives. */
  admissionSlice: number;
  /** listen(2)'s backlog of the node's port (http/listen-backlog.ts). */
  backlog: number;
}

export interface NodeConfig {
  id: string;
}

export interface SessionConfig {
  maxAge: number;
  ipCheck: boolean;
  cookieName: string;
  /** Cookie signing keys; the first signs, all verify (key rotation). */
  keys: string[];
}

export interface RemoteBufferConfig {
  delayDuration: number;
  maxDelayDuration: number;
  timerFrequency: number;
}

export interface WebSocketsConfig {
  /** Server scope of the cascade-aware `websockets.enabled`. */
  enabled: boolean;
  paths: string[];
  maxSocketsPerUser: number;
  allowedOrigins: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
  maxBufferedBytes: number;
  /** Milliseconds a message id is remembered, cluster-wide, for duplicates. */
  dedupWindow: number;
  /** Per-user history for recovery on reconnect (src/history/): size 0 turns it off. */
  history: { size: number; ttl: number };
  remote: RemoteBufferConfig;
}

export interface EmbeddedBrokerConfig {
  host: string;
  port: number;
  /** Accept clients without credentials (otherwise only the hosting node's pair). */
  allowAnonymous: boolean;
}

export interface ClusterConfig {
  /** `embedded` (an in-process MQTT broker), a broker URL (mqtt://, mqtts://, ws://, wss://), or comma-separated URLs of one clustered broker. */
  broker: string;
  /** Prefix of every topic: clusters with other names can share a broker. */
  name: string;
  username: string;
  password: string;
  /** A file holding the broker password (first line); wins over `password`. */
  passwordFile: string;
  /** Seals node-internal messages; empty: derived from `session.keys[0]`. */
  secret: string;
  /** Longest wait (ms) for the broker to confirm a read-your-writes step. */
  syncTimeout: number;
  fastPath: boolean;
  /** MQTT keepalive in seconds: a silent peer is declared dead after 1.5 x this. */
  keepalive: number;
  /** Cross-node publishes held while the broker is unreachable; beyond, they are dropped and counted. */
  outboxLimit: number;
  /** ms a node keeps a delivery for the other nodes to confirm (awaiting-receipts.ts). */
  confirmTimeout: number;
  embedded: EmbeddedBrokerConfig;
}

export interface DirectoryConfig {
  file: string;
}

export interface AdminConfig {
  token: string;
}

export interface MetricsConfig {
  /** Bearer token for GET /metrics; empty: open (keep it off public proxies). */
  token: string;
}

/** The per-node delivery trace (src/trace): how many messages it keeps. */
export interface TraceConfig {
  /** The last this many messages a node saw. */
  size: number;
  /** Messages pushed with `"trace": true`, kept apart: the last this many. */
  keep: number;
}

export interface LogConfig {
  level: LogLevel;
}

/** Sessions from the application (docs/auth.md): its connect proxy, and JWTs it issues. */
export interface AuthConfig {
  proxy: {
    /** The app's connect endpoint (http or https); empty: off. */
    url: string;
    /** Milliseconds to wait for its answer. */
    timeout: number;
    /** Request headers passed on to it (lower case). */
    headers: string[];
    /** Milliseconds an answer is cached per identical credentials; 0: ask on every upgrade. */
    cacheTtl: number;
  };
  jwt: {
    /** HS256/384/512 shared secret; empty: none. */
    secret: string;
    /** PEM public key (RS256, PS256, ES256, EdDSA); empty: none. */
    publicKeyFile: string;
    /** JWKS endpoint; empty: none. */
    jwksUrl: string;
    issuer: string;
    audience: string;
    /** Seconds of clock skew allowed on exp and nbf. */
    clockTolerance: number;
    /** The claim holding the context id. */
    contextClaim: string;
    /** A cookie to read the token from; empty: only `?token=`. */
    cookie: string;
  };
}

/** The broker as a front door for devices and backends (docs/iot.md). */
export interface MqttConfig {
  /** Broker accounts of devices, backends and nodes (JSON); empty for none. */
  accountsFile: string;
  /** Publish every client text frame to `<cluster.name>/egress/...`. */
  egress: boolean;
  /** Largest ingress payload delivered, in bytes. */
  maxPayload: number;
  /** QoS of the nodes' ingress subscriptions (0 on NATS 2.9.10). */
  ingressQos: 0 | 1;
  /** `user`: a subscription per user a node holds sockets of; `node`: the ingress subtree once per node. */
  ingressSubscription: 'user' | 'node';
}

export interface Config {
  server: ServerConfig;
  node: NodeConfig;
  session: SessionConfig;
  websockets: WebSocketsConfig;
  cluster: ClusterConfig;
  mqtt: MqttConfig;
  auth: AuthConfig;
  directory: DirectoryConfig;
  admin: AdminConfig;
  metrics: MetricsConfig;
  trace: TraceConfig;
  log: LogConfig;
}
