/**
 * The composition root of one wsmesh node: builds the parts from a loaded config and
 * wires them (sessions -> sockets, reloads -> parts). No rules live here; each part
 * owns its own.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocketServer } from 'ws';
import type { ActorOptions, AnyActorLogic } from 'xstate';
import type { Config } from './config/types.ts';
import type { ConfigDiff } from './config/reload.ts';
import type { Directory } from './directory/directory.ts';
import { EnabledResolver } from './directory/enabled-cache.ts';
import { MemorySessionStore, type SessionStore } from './session/store.ts';
import { SocketIndex } from './delivery/socket-index.ts';
import { NodeStats } from './delivery/stats.ts';
import { WebSocketService } from './delivery/service.ts';
import { singleNode, type Remote } from './delivery/remote.ts';
import { ClusterRemote } from './cluster/cluster-remote.ts';
import { BrokerLink, brokerPassword, brokerUrls } from './cluster/broker-link.ts';
import { CoalescingQueue } from './cluster/coalesce.ts';
import { RecentIds } from './cluster/dedup.ts';
import { ClusterKey } from './cluster/envelope.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './cluster/embedded-broker.ts';
import { Topics } from './cluster/topics.ts';
import { Queries } from './cluster/queries.ts';
import { answerInspectorQuestions } from './inspect/cluster.ts';
import { NO_MESSAGE, TraceRecorder } from './trace/recorder.ts';
import { DeliveryTrace } from './trace/delivery-trace.ts';
import { systemTimers } from './time/timers.ts';
import { NodeMetrics } from './metrics/metrics.ts';
import { createNodeSupervisor, NodeSupervisor } from './actors/node.actor.ts';
import { connectionEnded, connectionHooks } from './actors/connection-log.ts';
import { connectionMachine, type ConnectionActor } from './actors/connection.machine.ts';
import { selectProtocol } from './protocol/select.ts';
import { createApp } from './http/app.ts';
import { attachUpgrade } from './http/upgrade.ts';
import { SlicedQueue } from './time/sliced-queue.ts';
import { requestTimeouts } from './http/http-timeouts.ts';
import { attachClientErrors } from './http/client-error.ts';
import type { AppDeps, Live } from './http/deps.ts';
import type { Logger } from './log/logger.ts';
import { InspectorHub } from './inspect/hub.ts';
import { NO_ACCOUNTS, type Accounts } from './mqtt/accounts.ts';
import { IngressReceiver, countIngressDrop } from './mqtt/ingress.ts';
import type { IngressRules } from './mqtt/ingress-check.ts';
import { recipientOf } from './mqtt/recipient.ts';
import { Egress } from './mqtt/egress.ts';
import { SocketExpiry } from './auth/expiry.ts';
import { createAuthSources } from './auth/create.ts';
import { APP_SESSION_PREFIX, type AuthSources } from './auth/sources.ts';
import { CloseCode } from './errors.ts';
import { History } from './history/history.ts';
import { BrokerHistory } from './history/broker-history.ts';
import { MemoryHistory } from './history/memory-history.ts';
import { Recovery } from './history/recovery.ts';
import { backlogOf, readSomaxconn } from './http/listen-backlog.ts';

export interface NodeOptions {
  log: Logger;
  /** false: a node alone, without a broker (tests of the single node). Default true. */
  cluster?: boolean;
  /** Also given every actor's inspection events; the node's own inspector gets them anyway. */
  inspect?: ActorOptions<AnyActorLogic>['inspect'];
  /** How long `listen()` waits for the broker before serving local sockets only. */
  brokerWait?: number;
  /** The broker accounts (mqtt.accountsFile, loaded by the caller); none by default. */
  accounts?: Accounts;
}

/**
 * How long a node refuses an application session its logout hook ended: a token
 * carrying its `sid` would otherwise open sockets again until its `exp`. A day covers
 * tokens of any sensible lifetime; at most DEDUP_CAPACITY (100,000) ended sessions are
 * held per node, the oldest forgotten first.
 */
const ENDED_APP_SESSIONS_MS = 24 * 60 * 60 * 1000;

export class WsmeshNode {
  readonly live: Live;
  readonly stats = new NodeStats();
  readonly index = new SocketIndex();
  readonly sessions: SessionStore;
  readonly service: WebSocketService;
  readonly supervisor: NodeSupervisor;
  readonly server: Server;
  readonly metrics: NodeMetrics;
  /** Every actor of this node, live, for /admin/inspector (src/inspect). */
  readonly inspector = new InspectorHub();
  /** Every started connection actor not yet ended, admitted or not: what the inspector follows on demand. */
  private readonly connections = new Set<ConnectionActor>();
  private readonly inspect: NonNullable<ActorOptions<AnyActorLogic>['inspect']>;
  private readonly wss: WebSocketServer;
  /** Upgrades and socket closes, a few ms of them per turn of the event loop (server.admissionSlice). */
  private readonly admission: SlicedQueue;
  private readonly enabled = new EnabledResolver();
  private readonly log: Logger;
  private readonly options: NodeOptions;
  /** This process among all that ever ran with this node id. */
  readonly epoch = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  readonly cluster: ClusterRemote | undefined;
  /** Questions to every live node (the cluster's; a node alone asks only itself). */
  readonly queries: Queries;
  /** What this node saw of each recent message (GET /api/admin/trace/<id>). */
  readonly trace: DeliveryTrace;
  private readonly topics: Topics;
  private readonly queue = new CoalescingQueue();
  private readonly ids: { accepted: RecentIds; delivered: RecentIds; endedSessions: RecentIds };
  link: BrokerLink | undefined;
  /** The control connection: sessions only (Topics.controlSubscriptions). */
  control: BrokerLink | undefined;
  /**
   * The history connection: each push's retained history write, and the reads of a
   * recovery, apart from the deliveries, so a backlog of history writes (its outbox,
   * its QoS 1 window) never holds a delivery back. On NATS this did not raise the
   * cross-node rate: the servers' JetStream work per write is the limit
   * (bench/README.md, "History on a connection of its own").
   */
  historyLink: BrokerLink | undefined;
  private embedded: EmbeddedBroker | undefined;
  private stopping: Promise<void> | undefined;
  /** Broker accounts (devices, backends, nodes) the embedded broker admits. */
  private accounts: Accounts;
  /** MQTT ingress from devices and backends, received on the users' ingress topics. */
  private readonly ingress: IngressReceiver;
  /** The application's ways in: its JWTs, its connect proxy (auth/sources.ts). */
  private readonly authSources: AuthSources;
  /** Per-user history (src/history/): on the broker in a cluster, in memory for a node alone. */
  readonly history: History;
  private readonly brokerHistory: BrokerHistory | undefined;
  /** Sockets closed with 4401 when their token or application session expires. */
  readonly expiry = new SocketExpiry<ConnectionActor>(systemTimers, (actor) =>
    actor.send({ type: 'conn.close', code: CloseCode.SESSION_ENDED, reason: 'authentication expired', farewell: 'session-ended' }),
  );

  constructor(config: Config, directory: Directory, options: NodeOptions) {
    this.log = options.log;
    this.options = options;
    this.inspect = this.inspector.observerWith(options.inspect);
    this.inspector.followOnDemand({ machine: connectionMachine.id, live: () => this.connections });
    this.live = { config, directory };
    this.admission = new SlicedQueue({
      sliceMs: config.server.admissionSlice,
      onError: (error) => this.log.error('admission.failed', { error: (error as Error)?.message ?? String(error) }),
    });
    this.accounts = options.accounts ?? NO_ACCOUNTS;
    this.topics = new Topics(config.cluster.name);
    const dedupWindow = () => this.live.config.websockets.dedupWindow;
    this.trace = new DeliveryTrace(config.node.id, new TraceRecorder(config.trace.size, config.trace.keep));
    this.ids = { accepted: new RecentIds(dedupWindow()), delivered: new RecentIds(dedupWindow()), endedSessions: new RecentIds(ENDED_APP_SESSIONS_MS) };
    this.metrics = new NodeMetrics({
      stats: this.stats,
      sessions: () => this.sessions.size(),
      buffer: () => ({ entries: this.queue.size, messages: this.queue.messages }),
      admission: () => this.admission.length,
      broker: () =>
        (
          [
            ['main', this.link],
            ['control', this.control],
            ['history', this.historyLink],
          ] as const
        ).flatMap(([link, l]) => (l ? [{ link, state: l.state, reconnects: l.reconnects, outbox: l.outboxSize }] : [])),
      clusterNodes: () => this.service.clusterTotals()?.nodes ?? 1,
      receipts: () => this.cluster && { awaiting: this.cluster.awaiting.size, ...this.cluster.awaiting.stats },
      jwks: () => this.authSources?.jwt?.stats,
      actors: () => this.inspector.liveCounts(),
    });
    if (options.cluster !== false) {
      const { key, source } = ClusterKey.from({ secret: config.cluster.secret, sessionKeys: config.session.keys });
      if (source === 'random') this.log.warn('cluster.key_random', { advice: 'set cluster.secret (or session.keys) to the same value on every node, or the nodes cannot read each other\'s messages' });
      this.cluster = new ClusterRemote({
        nodeId: config.node.id,
        route: config.server.route,
        epoch: this.epoch,
        topics: this.topics,
        key,
        index: this.index,
        queue: this.queue,
        stats: this.stats,
        log: this.log,
        syncTimeout: config.cluster.syncTimeout,
        // Twice the keepalive: a missed presence heals about when a dead peer would have been noticed.
        presenceRefresh: 2 * config.cluster.keepalive * 1000,
        confirmTimeout: () => this.live.config.cluster.confirmTimeout,
        outboxLimit: () => this.live.config.cluster.outboxLimit,
        fastPath: config.cluster.fastPath,
        ingressPerUser: config.mqtt.ingressSubscription === 'user',
        dedupWindow,
        trace: this.trace,
        observeFlushAge: (seconds) => this.metrics.flushAge.observe(seconds),
        inspect: this.inspect,
      });
    }
    this.ingress = new IngressReceiver({
      rules: () => this.ingressRules(),
      // Subscribed to the whole subtree, this node gets every user's messages: only those of users it holds sockets of are its business.
      holds: config.mqtt.ingressSubscription === 'node' ? (contextId, userId) => this.index.countOfUser(contextId, userId) > 0 : undefined,
      // Not traced: an ingress message's id is made here and told to nobody, so it would only evict pushes from the trace.
      deliver: (outbound) => this.service.deliverLocally(outbound, undefined, NO_MESSAGE),
      stats: this.stats.ingress,
      log: this.log,
      recent: new RecentIds(dedupWindow()),
    });
    this.queries = this.cluster?.queries ?? new Queries(config.node.id, systemTimers);
    this.sessions = this.cluster?.sessions ?? new MemorySessionStore();
    const remote: Remote = this.cluster ?? singleNode;
    const cluster = this.cluster;
    this.brokerHistory = cluster
      ? new BrokerHistory({
          topics: this.topics,
          publish: (topic, body, retain) => cluster.publishSealed(topic, body, retain),
          subscribe: (filters) => (this.historyLink ?? this.link)?.subscribe(filters) ?? Promise.resolve('offline' as const),
          unsubscribe: (filters) => (this.historyLink ?? this.link)?.unsubscribe(filters),
          timers: systemTimers,
          readTimeout: () => this.live.config.cluster.syncTimeout,
        })
      : undefined;
    this.history = new History(this.brokerHistory ?? new MemoryHistory(), () => this.live.config.websockets.history, systemTimers);
    const recovery = new Recovery({
      store: () => (this.history.enabled ? this.history : undefined),
      ttl: () => this.live.config.websockets.history.ttl,
      now: Date.now,
      log: this.log,
      counts: this.stats.streams,
    });
        this.service = new WebSocketService(config.node.id, this.index, remote, this.stats, this.ids, {
      trace: this.trace,
      history: this.history.enabled ? this.history : undefined,
      receives: (contextId, userId) => recipientOf(this.live.directory, this.enabled, this.live.config.websockets.enabled, contextId, userId) !== 'disabled',
    });
    this.queries.register('trace', (body) => this.trace.answer(String((body as { id?: unknown })?.id)) ?? null);
    answerInspectorQuestions(this.queries, this.inspector);
    this.supervisor = new NodeSupervisor(
      createNodeSupervisor({
        index: this.index,
        remote,
        maxSocketsPerUser: config.websockets.maxSocketsPerUser,
        shutdownTimeout: config.server.shutdownTimeout,
        drainDuration: config.server.drainDuration,
        timers: systemTimers,
        buffer: {
          queue: this.queue,
          settings: config.websockets.remote,
          timers: systemTimers,
          flush: (entries, now) => this.cluster?.flush(entries, now),
          coalesced: (count, arrival, twin) => {
            this.stats.drop('coalesced', count);
            if (twin !== undefined) this.trace.mergedAway(this.trace.open(arrival.id, arrival.keep), twin);
          },
          queued: (arrival) => this.trace.queued(this.trace.open(arrival.id, arrival.keep)),
        },
        inspect: this.inspect,
        connectionInspect: options.inspect,
        onConnectionSpawned: (actor) => {
          this.connections.add(actor);
          this.inspector.spawned(actor);
        },
        onConnectionAdmitted: (handle) => this.stats.socketAdmitted(handle.prefix),
        onConnectionEnded: (output, handle, actor) => {
          this.connections.delete(actor);
          this.expiry.disarm(actor);
          this.inspector.ended(actor);
          connectionEnded(this.stats, this.log, output, handle);
        },
      }),
    );
    this.sessions.onEnded((record, reason) => {
      const closed = this.service.closeSession(record.id);
      this.log.info('session.ended', { sessionId: record.id, reason, socketsClosed: closed });
    });
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: config.websockets.maxPayload,
      // Pings are answered by socket-events.ts, which names a ping flood in the close log.
      autoPong: false,
    });
    this.authSources = createAuthSources(() => this.live.config.auth, { log: this.log, metrics: this.metrics });
    const deps: AppDeps = {
      live: this.live,
      sessions: this.sessions,
      service: this.service,
      supervisor: this.supervisor,
      stats: this.stats,
      enabled: this.enabled,
      protocols: selectProtocol,
      hooks: connectionHooks(
        this.stats,
        this.log,
        (actor, request) => recovery.begin(actor, request),
        new Egress({
          nodeId: config.node.id,
          topics: this.topics,
          enabled: () => this.live.config.mqtt.egress,
          limit: () => this.live.config.cluster.outboxLimit,
          link: () => this.link,
          stats: this.stats,
          log: this.log,
          now: Date.now,
        }).frame,
      ),
      wss: this.wss,
      log: this.log,
      metrics: this.metrics,
      probes: {
        accepting: () => this.supervisor.accepting(),
        // Ready only when both connections are: the worse of the two counts.
        broker: () => (this.link?.state !== 'online' ? this.link?.state : this.control?.state) ?? (this.cluster ? 'connecting' : 'none'),
      },
      inspector: this.inspector,
      auth: this.authSources,
      expiry: this.expiry,
      queries: this.queries,
      admission: this.admission,
    };
    const app = createApp(deps);
    // requireHostHeader off: the app refuses a missing Host itself, with a JSON body (http/client-error.ts).
    this.server = createServer({ ...requestTimeouts(config.server), requireHostHeader: false }, app.callback());
    attachUpgrade(this.server, app, this.admission);
    attachClientErrors(this.server);
  }

  async listen(): Promise<AddressInfo> {
    this.supervisor.actor.start();
    if (this.history.enabled) this.history.start();
    if (this.cluster) await this.joinCluster(this.cluster);
    const { host, port } = this.live.config.server;
    const backlog = backlogOf(this.live.config.server.backlog, readSomaxconn());
    if (backlog.effective < backlog.configured) {
      this.log.warn('server.backlog_capped', { ...backlog, advice: `the kernel lowers server.backlog to net.core.somaxconn: raise it (sysctl -w net.core.somaxconn=${backlog.configured}) or a reconnect storm overflows the queue` });
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host, backlog: backlog.configured }, () => {
        this.server.removeListener('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /**
   * Connects to the broker (starting the embedded one first, if configured) and
   * waits for it a little: a node whose broker is down still serves its own sockets,
   * and joins the cluster when the broker comes back.
   */
  private async joinCluster(cluster: ClusterRemote): Promise<void> {
    const { cluster: settings, node } = this.live.config;
    let urls = brokerUrls(settings.broker);
    let username = settings.username;
    let password = brokerPassword(settings);
    if (settings.broker === 'embedded') {
      if (!username) {
        // No account configured: one only this process knows, so nobody else gets in.
        username = `${node.id}-generated`;
        password = randomBytes(24).toString('base64url');
        this.log.info('broker.generated_account', {
          username,
          advice: 'the embedded broker accepts only this node; to let other nodes join, set cluster.username and cluster.password (or cluster.passwordFile) to the same pair on this node and on every other node',
        });
      }
      this.embedded = await startEmbeddedBroker(
        {
          ...settings.embedded,
          account: { username, password },
          guard: {
            root: settings.name,
            restrictNodePair: true,
            accounts: () => this.accounts,
            ingress: () => this.ingressRules(),
            refused: (action, details) => {
              this.stats.brokerRefused.set(action, (this.stats.brokerRefused.get(action) ?? 0) + 1);
              this.log.warn('broker.refused', { action, ...details });
            },
            ingressDropped: (reason, details) => {
              countIngressDrop(this.stats.ingress, reason);
              // Never the payload: it is a user's message.
              this.log.warn('ingress.dropped', { reason, ...details });
            },
          },
        },
        this.log,
      );
      urls = [this.embedded.url];
    }
    const ingressPrefix = this.topics.ingressPrefix();
    const historyPrefix = this.topics.historyPrefix();
    const settingsAtStart = this.live.config;
    const common = {
      urls,
      username,
      password,
      keepalive: settings.keepalive,
      outboxLimit: settings.outboxLimit,
      resendAfterMs: settings.syncTimeout,
      // The admission queue's bound, read at start as the queue reads it.
      sliceMs: () => settingsAtStart.server.admissionSlice,
      log: this.log,
      inspect: this.inspect,
      // Ingress at mqtt.ingressQos: 0 on NATS 2.9.10, whose JetStream consumers lose QoS 1 ingress (docs/iot.md).
      // History reads at QoS 0: retained slots come all the same, and on NATS a QoS 1 subscription is a JetStream consumer.
      // Receipts at QoS 0: they are published at QoS 0 (a lost one is asked for again).
      qosOf: (filter: string) =>
        this.topics.isCopy(filter) || filter.startsWith(historyPrefix) || this.topics.parse(filter)?.kind === 'receipt' ? 0 : filter.startsWith(ingressPrefix) ? settingsAtStart.mqtt.ingressQos : 1,
      onMessage: (topic: string, payload: Buffer, retained: boolean, packet: { dup: boolean; messageId?: number }) => {
        if (topic.startsWith(ingressPrefix)) this.ingress.receive(topic, payload, { retain: retained, dup: packet.dup, messageId: packet.messageId });
        else cluster.receive(topic, payload, retained);
      },
    };
    this.link = new BrokerLink({
      ...common,
      clientId: `${settings.name}-${node.id}`,
      will: () => ({ topic: this.topics.presence(node.id), payload: cluster.nextWill() }),
      subscriptions: () => [
        ...this.topics.subscriptions(node.id),
        ...(settingsAtStart.mqtt.ingressSubscription === 'node' ? [this.topics.ingressAll()] : []),
        ...cluster.subscriptions.topics(),
      ],
      onOnline: () => {
        cluster.online();
        this.control?.retryNow();
      },
      onOffline: () => cluster.linkLost(),
    });
    // Sessions on a connection of their own (Topics.controlSubscriptions says why).
    this.control = new BrokerLink({
      ...common,
      clientId: `${settings.name}-${node.id}-control`,
      systemId: 'broker.control',
      name: 'control',
      subscriptions: () => this.topics.controlSubscriptions(settings.fastPath),
      onOnline: () => this.link?.retryNow(),
      onOffline: () => cluster.controlLost(),
    });
    if (this.history.enabled) {
      this.historyLink = new BrokerLink({
        ...common,
        clientId: `${settings.name}-${node.id}-history`,
        systemId: 'broker.history',
        name: 'history',
        // Nothing for its whole life: a recovery subscribes to one user's history for its read.
        subscriptions: () => [],
        onOnline: () => {},
      });
    }
    cluster.attach({
      link: this.link,
      control: this.control,
      history: this.historyLink,
      buffer: this.supervisor.actor.system.get('buffer')!,
      local: {
        deliver: (outbound, trace) => this.service.deliverLocally(outbound, undefined, trace),
        skip: (outbound, reason, trace) => this.service.skipLocally(outbound, reason, trace),
        close: (contextId, userId, matches, code) => this.service.closeLocally(contextId, userId, matches, code),
        endSession: (sessionKey) => {
          // Another node's logout hook: a cached proxy answer here must not reopen the session.
          if (sessionKey.startsWith(APP_SESSION_PREFIX)) this.authSources.proxy?.forgetSession(sessionKey.slice(APP_SESSION_PREFIX.length));
          return this.service.closeAppSessionHere(sessionKey);
        },
        history: (contextId, userId, body, marker, retained) => this.brokerHistory?.arrived(contextId, userId, body, marker, retained),
      },
    });
    this.control.start();
    this.historyLink?.start();
    this.link.start();
    const wait = this.options.brokerWait ?? 5000;
    const [online] = await Promise.all([this.link.whenOnline(wait), this.control.whenOnline(wait)]);
    if (!online) this.log.warn('broker.unreachable_at_start', { advice: 'serving local sockets only until the broker is reachable; check --broker' });
  }

  /** Applies the reloadable part of a new config; the rest waits for a restart. */
  applyConfig(next: Config, diff: ConfigDiff, reason: 'signal' | 'file' = 'signal'): void {
    const merged = structuredClone(this.live.config);
    for (const key of diff.reloadable) setKey(merged, key, getKey(next, key));
    this.live.config = merged;
    this.log.setLevel(merged.log.level);
    this.enabled.clear();
    this.ids.accepted.windowMs = this.ids.delivered.windowMs = merged.websockets.dedupWindow;
    this.cluster?.windowChanged();
    this.supervisor.actor.send({
      type: 'config.updated',
      maxSocketsPerUser: merged.websockets.maxSocketsPerUser,
      remote: merged.websockets.remote,
      drainDuration: merged.server.drainDuration,
      shutdownTimeout: merged.server.shutdownTimeout,
    });
    this.link?.setOutboxLimit(merged.cluster.outboxLimit);
    this.control?.setOutboxLimit(merged.cluster.outboxLimit);
    this.historyLink?.setOutboxLimit(merged.cluster.outboxLimit);
    if (diff.reloadable.length) this.log.info('config.reloaded', { reason, applied: diff.reloadable });
    if (diff.restartRequired.length) this.log.warn('config.restart_required', { restartRequired: diff.restartRequired, advice: 'restart the node to apply these keys' });
  }

  /** The rules an ingress message is checked against, from the live config and directory. */
  private ingressRules(): IngressRules {
    const { live, enabled } = this;
    return {
      prefix: this.topics.ingressPrefix(),
      maxPayload: live.config.mqtt.maxPayload,
      recipient: (contextId, userId) => recipientOf(live.directory, enabled, live.config.websockets.enabled, contextId, userId),
    };
  }

  /** A new accounts file: the embedded broker ends the connections of accounts removed or changed. */
  applyAccounts(accounts: Accounts): void {
    this.accounts = accounts;
    const ended = this.embedded?.accountsChanged() ?? 0;
    this.log.info('accounts.reloaded', { source: accounts.source, accounts: accounts.byId.size, clientsEnded: ended });
  }

  applyDirectory(directory: Directory): void {
    this.live.directory = directory;
    this.enabled.clear();
    this.log.info('directory.reloaded', { source: directory.source, users: directory.users().length });
  }

  /**
   * Stops accepting, closes every socket with 1001 and waits for them (at most
   * `server.shutdownTimeout`, then the rest are dropped). Idempotent.
   */
  shutdown(): Promise<void> {
    this.stopping ??= this.doShutdown();
    return this.stopping;
  }

  private async doShutdown(): Promise<void> {
    this.log.info('node.draining', { sockets: this.index.size, drainDuration: this.live.config.server.drainDuration });
    // Draining: /readyz answers 503 and upgrades are refused while the sockets close,
    // spread over drainDuration; the server still answers so proxies can see it.
    const drained = new Promise<void>((resolve) => {
      if (this.supervisor.actor.getSnapshot().status !== 'active') return resolve();
      this.supervisor.actor.subscribe({ complete: () => resolve() });
    });
    this.supervisor.actor.send({ type: 'node.drain' });
    await drained;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    this.wss.close();
    this.cluster?.stop();
    this.history.stop();
    this.inspector.stop();
    // Last words: the registry entries went out as the sockets closed; now presence.
    if (this.link && this.cluster) {
      await Promise.all([
        this.link.close([{ topic: this.topics.presence(this.live.config.node.id), payload: this.cluster.sealedPresence('offline'), retain: true }]),
        this.control?.close(),
        this.historyLink?.close(),
      ]);
    }
    await this.embedded?.close();
    this.sessions.close();
    this.log.info('node.stopped', {});
  }
}

function getKey(config: Config, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], config);
}

function setKey(config: Config, key: string, value: unknown): void {
  const parts = key.split('.');
  const last = parts.pop()!;
  const parent = parts.reduce<Record<string, unknown>>((node, part) => node[part] as Record<string, unknown>, config as never);
  parent[last] = value;
}
