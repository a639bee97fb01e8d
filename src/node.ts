/**
 * The composition root of one wsmesh node: builds the parts from a loaded config and
 * wires them (sessions -> sockets, reloads -> parts). No rules live here; each part
 * owns its own.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { singleNode, type Remote } from './cluster/remote.ts';
import { ClusterRemote } from './cluster/cluster-remote.ts';
import { BrokerLink, brokerPassword } from './cluster/broker-link.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './cluster/embedded-broker.ts';
import { Topics } from './cluster/topics.ts';
import { encode } from './cluster/codec.ts';
import { systemTimers } from './time/timers.ts';
import { randomBytes } from 'node:crypto';
import { NodeMetrics } from './metrics/metrics.ts';
import { createNodeSupervisor, NodeSupervisor } from './actors/node.actor.ts';
import type { ConnectionHooks, ConnectionOutput } from './actors/connection.machine.ts';
import type { ConnectionHandle } from './delivery/socket-index.ts';
import { selectProtocol } from './protocol/select.ts';
import { createApp } from './http/app.ts';
import { attachUpgrade } from './http/upgrade.ts';
import type { AppDeps, Live } from './http/deps.ts';
import type { Logger } from './log/logger.ts';
import { InspectorHub } from './inspect/hub.ts';

export interface NodeOptions {
  log: Logger;
  /** false: a node alone, without a broker (tests of the single node). Default true. */
  cluster?: boolean;
  /** Also given every actor's inspection events; the node's own inspector gets them anyway. */
  inspect?: ActorOptions<AnyActorLogic>['inspect'];
  /** How long `listen()` waits for the broker before serving local sockets only. */
  brokerWait?: number;
}

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
  private readonly inspect: NonNullable<ActorOptions<AnyActorLogic>['inspect']>;
  private readonly wss: WebSocketServer;
  private readonly enabled = new EnabledResolver();
  private readonly log: Logger;
  private readonly options: NodeOptions;
  /** This process among all that ever ran with this node id. */
  readonly epoch = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  readonly cluster: ClusterRemote | undefined;
  private readonly topics: Topics;
  link: BrokerLink | undefined;
  private embedded: EmbeddedBroker | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  constructor(config: Config, directory: Directory, options: NodeOptions) {
    this.log = options.log;
    this.options = options;
    this.inspect = this.inspector.observerWith(options.inspect);
    this.live = { config, directory };
    this.topics = new Topics(config.cluster.name);
    if (options.cluster !== false) {
      this.cluster = new ClusterRemote({
        nodeId: config.node.id,
        route: config.server.route,
        epoch: this.epoch,
        topics: this.topics,
        index: this.index,
        stats: this.stats,
        log: this.log,
      });
    }
    this.sessions = this.cluster?.sessions ?? new MemorySessionStore();
    const remote: Remote = this.cluster ?? singleNode;
    this.service = new WebSocketService(config.node.id, this.index, remote, this.stats);
    this.supervisor = new NodeSupervisor(
      createNodeSupervisor({
        index: this.index,
        remote,
        maxSocketsPerUser: config.websockets.maxSocketsPerUser,
        shutdownTimeout: config.server.shutdownTimeout,
        drainDuration: config.server.drainDuration,
        timers: systemTimers,
        buffer: {
          settings: config.websockets.remote,
          timers: systemTimers,
          flush: (entries, now) => {
            try {
              for (const entry of entries) this.metrics.flushAge.observe((now - entry.firstArrival) / 1000);
              this.cluster?.flush(entries);
            } catch (error) {
              // Never let a flush failure stop the buffer (and with it the supervisor).
              this.stats.drop('invalid', entries.reduce((sum, e) => sum + e.payloads.length, 0));
              this.log.error('cluster.flush_failed', { error, entries: entries.length });
            }
          },
          coalesced: (count) => this.stats.drop('coalesced', count),
        },
        inspect: this.inspect,
        onConnectionAdmitted: (handle) => this.stats.socketAdmitted(handle.prefix),
        onConnectionEnded: (output, handle) => this.connectionEnded(output, handle),
      }),
    );
    this.metrics = new NodeMetrics({
      stats: this.stats,
      sessions: () => this.sessions.size(),
      buffer: () => {
        const queue = (this.supervisor.actor.system.get('buffer')?.getSnapshot().context as { queue?: { size: number; messages: number } } | undefined)?.queue;
        return { entries: queue?.size ?? 0, messages: queue?.messages ?? 0 };
      },
      broker: () => (this.link ? { state: this.link.state, reconnects: this.link.reconnects, outbox: this.link.outboxSize } : undefined),
      clusterNodes: () => this.service.clusterTotals()?.nodes ?? 1,
    });
    this.sessions.onEnded((record, reason) => {
      const closed = this.service.closeSession(record.id);
      this.log.info('session.ended', { sessionId: record.id, reason, socketsClosed: closed });
    });
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: config.websockets.maxPayload,
    });
    const deps: AppDeps = {
      live: this.live,
      sessions: this.sessions,
      service: this.service,
      supervisor: this.supervisor,
      stats: this.stats,
      enabled: this.enabled,
      protocols: selectProtocol,
      hooks: this.hooks(),
      wss: this.wss,
      log: this.log,
      metrics: this.metrics,
      readiness: () => this.readiness(),
      inspector: this.inspector,
    };
    const app = createApp(deps);
    this.server = createServer(app.callback());
    attachUpgrade(this.server, app);
  }

  async listen(): Promise<AddressInfo> {
    this.supervisor.actor.start();
    if (this.cluster) await this.joinCluster(this.cluster);
    const { host, port } = this.live.config.server;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
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
    let url = settings.broker;
    if (url === 'embedded') {
      this.embedded = await startEmbeddedBroker(settings.embedded, this.log);
      url = this.embedded.url;
    }
    this.link = new BrokerLink({
      url,
      clientId: `${settings.name}-${node.id}`,
      username: settings.username,
      password: brokerPassword(settings),
      keepalive: settings.keepalive,
      will: { topic: this.topics.presence(node.id), payload: encode(cluster.presence('offline')) },
      subscriptions: this.topics.subscriptions(node.id),
      outboxLimit: settings.outboxLimit,
      log: this.log,
      inspect: this.inspect,
      onOnline: () => {
        cluster.announce();
        // Give the retained state a moment to arrive before judging what is stale.
        clearTimeout(this.sweepTimer);
        this.sweepTimer = setTimeout(() => cluster.sweep(), 1000).unref();
      },
      onOffline: () => cluster.linkLost(),
      onMessage: (topic, payload) => cluster.receive(topic, payload),
    });
    cluster.attach({
      publisher: this.link,
      buffer: this.supervisor.actor.system.get('buffer')!,
      local: {
        deliver: (outbound) => this.service.deliverLocally(outbound),
        close: (contextId, userId, matches, code) => this.service.closeLocally(contextId, userId, matches, code),
      },
    });
    this.link.start();
    const online = await this.link.whenOnline(this.options.brokerWait ?? 5000);
    if (!online) this.log.warn('broker.unreachable_at_start', { advice: 'serving local sockets only until the broker is reachable; check --broker' });
  }

  /** Applies the reloadable part of a new config; the rest waits for a restart. */
  applyConfig(next: Config, diff: ConfigDiff, reason: 'signal' | 'file' = 'signal'): void {
    const merged = structuredClone(this.live.config);
    for (const key of diff.reloadable) setKey(merged, key, getKey(next, key));
    this.live.config = merged;
    this.log.setLevel(merged.log.level);
    this.enabled.clear();
    this.supervisor.actor.send({
      type: 'config.updated',
      maxSocketsPerUser: merged.websockets.maxSocketsPerUser,
      remote: merged.websockets.remote,
      drainDuration: merged.server.drainDuration,
      shutdownTimeout: merged.server.shutdownTimeout,
    });
    this.link?.setOutboxLimit(merged.cluster.outboxLimit);
    if (diff.reloadable.length) this.log.info('config.reloaded', { reason, applied: diff.reloadable });
    if (diff.restartRequired.length) this.log.warn('config.restart_required', { restartRequired: diff.restartRequired, advice: 'restart the node to apply these keys' });
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

  /**
   * Ready when the node accepts sockets: running (not draining) and, in a cluster,
   * linked to the broker. The directory is always loaded (the node does not start
   * without one; a failed reload keeps the previous).
   */
  readiness(): { ready: boolean; checks: { accepting: boolean; broker: string; directory: boolean } } {
    const accepting = this.supervisor.accepting();
    const broker = this.link?.state ?? (this.cluster ? 'connecting' : 'none');
    const brokerOk = !this.cluster || broker === 'online';
    return { ready: accepting && brokerOk, checks: { accepting, broker, directory: true } };
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
    clearTimeout(this.sweepTimer);
    this.cluster?.stop();
    // Last words: the registry entries went out as the sockets closed; now presence.
    if (this.link && this.cluster) {
      await this.link.close([{ topic: this.topics.presence(this.live.config.node.id), payload: encode(this.cluster.presence('offline')), retain: true }]);
    }
    await this.embedded?.close();
    this.sessions.close();
    this.log.info('node.stopped', {});
  }

  private hooks(): ConnectionHooks {
    return {
      inbound: (connection, text) => {
        this.stats.messagesReceived++;
        this.log.debug('ws.message', { connectionId: connection.connectionId, bytes: text.length });
      },
      slowConsumer: (connection) => {
        this.stats.slowConsumerCloses++;
        this.log.warn('ws.slow_consumer', {
          connectionId: connection.connectionId,
          contextId: connection.identity?.contextId,
          userId: connection.identity?.userId,
          bufferedBytes: connection.socket?.bufferedAmount,
        });
      },
      dropped: (connection, reason) => {
        this.stats.drop(reason);
        this.log.debug('ws.message_dropped', { connectionId: connection.connectionId, reason });
      },
    };
  }

  private connectionEnded(output: ConnectionOutput, handle: ConnectionHandle | undefined): void {
    if (output.rejection) return; // logged by the handshake
    if (handle) this.stats.socketEnded(handle.prefix, output.code);
    this.log.info('ws.closed', {
      connectionId: output.connectionId,
      contextId: handle?.contextId,
      userId: handle?.userId,
      code: output.code,
      reason: output.reason,
      by: output.by,
      durationMs: output.durationMs,
      messagesSent: output.sent,
      messagesReceived: output.received,
    });
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
