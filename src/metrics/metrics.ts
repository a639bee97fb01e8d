/**
 * Prometheus metrics of one node (prom-client, `wsmesh_` prefix). The hot paths
 * only bump plain counters in `NodeStats`; every metric here is collected from them
 * when Prometheus scrapes, so a message costs no metric work. One registry per node
 * (not prom-client's global one), so several nodes can live in one process (tests).
 * docs/operations.md lists every metric and what to alert on.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { NodeStats } from '../delivery/stats.ts';

/** What the metrics read besides the counters; all O(1). */
export interface MetricSources {
  stats: NodeStats;
  sessions: () => number;
  buffer: () => { entries: number; messages: number };
  /** Upgrades and socket closes waiting for their slice (time/sliced-queue.ts). */
  admission?: () => number;
  /** Each broker link of the node: `main` and `control` (none without a cluster). */
  broker: () => Array<{ link: 'main' | 'control' | 'history'; state: string; reconnects: number; outbox: number }>;
  clusterNodes: () => number;
  /** Delivery publishes kept for the other nodes' receipts (cluster/awaiting-receipts.ts); none without a cluster. */
  receipts?: () => { awaiting: number; resent: number; confirmed: number; givenUp: number } | undefined;
  /** Live actors per machine (the inspector hub's, read without following). */
  actors?: () => Record<string, number>;
  /** The JWT verifier's key fetches, when it has a JWKS endpoint. */
  jwks?: () => { jwksFetches: number; jwksFailures: number } | undefined;
}

const BROKER_STATES = ['connecting', 'online', 'offline', 'closed'];

export class NodeMetrics {
  readonly registry = new Registry();
  /** Age of remote-buffer entries when flushed: how long coalescing held messages. */
  readonly flushAge: Histogram;
  /** How long the application's connect proxy took to answer, by outcome. */
  readonly proxySeconds: Histogram<'outcome'>;

  constructor(sources: MetricSources) {
    const { stats } = sources;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'wsmesh_', eventLoopMonitoringPrecision: 20 });

    collected(Counter, 'wsmesh_handshakes_total', 'WebSocket handshakes by outcome and, when rejected, error code.', ['outcome', 'code'], (set) => {
      set({ outcome: 'accepted', code: '' }, stats.handshakesAccepted);
      for (const [code, n] of stats.handshakesRejected) set({ outcome: 'rejected', code }, n);
    });
    collected(Counter, 'wsmesh_messages_delivered_total', 'Messages written to sockets of this node.', [], (set) => set({}, stats.messagesDelivered));
    collected(Counter, 'wsmesh_messages_inbound_total', 'Messages received from clients on this node.', [], (set) => set({}, stats.messagesReceived));
    collected(Counter, 'wsmesh_messages_remote_sent_total', 'Messages sent to other nodes.', [], (set) => set({}, stats.remoteSent));
    collected(Counter, 'wsmesh_messages_remote_received_total', 'Messages received from other nodes.', [], (set) => set({}, stats.remoteReceived));
    collected(Counter, 'wsmesh_remote_publishes_total', 'Inbox publishes to other nodes (one per node per buffer flush).', [], (set) => set({}, stats.remotePublishes));
    collected(Counter, 'wsmesh_messages_coalesced_total', 'Remote messages merged away as exact duplicates of a queued one.', [], (set) => set({}, stats.dropped.get('coalesced') ?? 0));
    collected(Counter, 'wsmesh_messages_dropped_total', 'Messages that reached no socket, by reason.', ['reason'], (set) => {
      for (const [reason, n] of stats.dropped) if (reason !== 'coalesced') set({ reason }, n);
    });
    collected(Counter, 'wsmesh_streams_total', 'Socket streams begun (envelope, Socket.IO with history on), by outcome: fresh, recovered, not_recovered.', ['outcome'], (set) => {
      set({ outcome: 'fresh' }, stats.streams.fresh);
      set({ outcome: 'recovered' }, stats.streams.recovered);
      set({ outcome: 'not_recovered' }, stats.streams.notRecovered);
    });
    collected(Counter, 'wsmesh_messages_replayed_total', 'Missed messages written again to recovering sockets.', [], (set) => set({}, stats.streams.replayed));
    collected(Counter, 'wsmesh_slow_consumer_closes_total', 'Sockets closed with 1013 because they did not read fast enough.', [], (set) => set({}, stats.slowConsumerCloses));
    collected(Counter, 'wsmesh_ingress_messages_total', 'MQTT ingress messages this node received from the broker (devices, backends).', [], (set) => set({}, stats.ingress.received));
    collected(Counter, 'wsmesh_ingress_frames_total', 'Frames written to sockets of this node from MQTT ingress messages.', [], (set) => set({}, stats.ingress.written));
    collected(Counter, 'wsmesh_ingress_dropped_total', 'MQTT ingress messages dropped, by reason (docs/iot.md).', ['reason'], (set) => {
      for (const [reason, n] of stats.ingress.dropped) set({ reason }, n);
    });
    collected(Counter, 'wsmesh_egress_published_total', 'Client frames published to the egress topics (mqtt.egress).', [], (set) => set({}, stats.egress.published));
    collected(Counter, 'wsmesh_egress_dropped_total', 'Client frames not published to egress, by reason.', ['reason'], (set) => {
      for (const [reason, n] of stats.egress.dropped) set({ reason }, n);
    });
    collected(Counter, 'wsmesh_broker_refused_total', 'What the embedded broker refused its clients (connect, publish, subscribe).', ['action'], (set) => {
      for (const [action, n] of stats.brokerRefused) set({ action }, n);
    });
    collected(Counter, 'wsmesh_socket_closes_total', 'Closed sockets by close code.', ['code'], (set) => {
      for (const [code, n] of stats.closes) set({ code: String(code) }, n);
    });
    collected(Counter, 'wsmesh_broker_reconnects_total', 'Reconnections of each broker link (main, control).', ['link'], (set) => {
      for (const { link, reconnects } of sources.broker()) set({ link }, reconnects);
    });

    collected(Gauge, 'wsmesh_sockets_open', 'Open sockets on this node by served path prefix.', ['prefix'], (set) => {
      for (const [prefix, n] of stats.socketsByPrefix) set({ prefix }, n);
    });
    collected(Gauge, 'wsmesh_sessions', 'Live sessions known to this node (the whole cluster\'s).', [], (set) => set({}, sources.sessions()));
    collected(Gauge, 'wsmesh_buffer_entries', 'Entries waiting in the remote coalescing buffer.', [], (set) => set({}, sources.buffer().entries));
    collected(Gauge, 'wsmesh_admission_queue', 'Upgrades and socket closes waiting for their turn of the event loop (server.admissionSlice).', [], (set) => set({}, sources.admission?.() ?? 0));
    collected(Gauge, 'wsmesh_buffer_messages', 'Messages waiting in the remote coalescing buffer.', [], (set) => set({}, sources.buffer().messages));
    collected(Gauge, 'wsmesh_broker_link_state', 'Each broker link\'s state (1 for the current one): main and control.', ['link', 'state'], (set) => {
      for (const { link, state } of sources.broker()) for (const name of BROKER_STATES) set({ link, state: name }, state === name ? 1 : 0);
    });
    collected(Gauge, 'wsmesh_broker_outbox_messages', 'Publishes held while the broker is unreachable, per link.', ['link'], (set) => {
      for (const { link, outbox } of sources.broker()) set({ link }, outbox);
    });
    collected(Gauge, 'wsmesh_actors_live', 'Live actors of this node by machine (connection, node, buffer, broker, peer).', ['machine'], (set) => {
      for (const [machine, n] of Object.entries(sources.actors?.() ?? {})) set({ machine }, n);
    });
    collected(Gauge, 'wsmesh_cluster_nodes', 'Nodes of the cluster seen online, this one included.', [], (set) => set({}, sources.clusterNodes()));
    collected(Gauge, 'wsmesh_cluster_deliveries_awaiting', 'Delivery publishes to other nodes kept until those nodes confirm them (cluster.confirmTimeout).', [], (set) => set({}, sources.receipts?.()?.awaiting ?? 0));
    collected(Counter, 'wsmesh_cluster_deliveries_resent_total', 'Delivery publishes sent again because a node holding a socket of the user had not confirmed them.', [], (set) => set({}, sources.receipts?.()?.resent ?? 0));
    collected(Counter, 'wsmesh_cluster_deliveries_unconfirmed_total', 'Delivery publishes given up (cluster.confirmTimeout or cluster.outboxLimit) while a node still owed its receipt; their messages count in wsmesh_messages_dropped_total{reason="unconfirmed"}.', [], (set) => set({}, sources.receipts?.()?.givenUp ?? 0));

    collected(Counter, 'wsmesh_auth_requests_total', 'Upgrades authenticated (result ok) or refused (result the error code), by source: session, token, proxy.', ['source', 'result'], (set) => {
      for (const [key, n] of stats.authRequests) {
        const [source, result] = key.split(' ');
        set({ source, result }, n);
      }
    });
    this.proxySeconds = new Histogram({
      name: 'wsmesh_auth_proxy_seconds',
      help: "Time the application's connect proxy took to answer, by outcome (ok, unknown, disabled, timeout, unreachable, bad_status, bad_answer).",
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers,
    });
    collected(Counter, 'wsmesh_auth_jwks_fetches_total', 'Fetches of the JWT signing keys from auth.jwt.jwksUrl, by result (ok, failed).', ['result'], (set) => {
      const jwks = sources.jwks?.();
      if (!jwks) return;
      set({ result: 'ok' }, jwks.jwksFetches - jwks.jwksFailures);
      set({ result: 'failed' }, jwks.jwksFailures);
    });
    this.flushAge = new Histogram({
      name: 'wsmesh_buffer_flush_age_seconds',
      help: 'Age of remote-buffer entries when flushed (first arrival to flush).',
      buckets: [0, 0.25, 0.5, 1, 1.5, 2, 3, 4, 6],
      registers,
    });

    /**
     * A metric whose values are read from `sources` at each scrape: reset, then every
     * value `read` reports added to zero (`inc`, which counters and gauges both have).
     */
    function collected(Metric: typeof Counter | typeof Gauge, name: string, help: string, labelNames: string[], read: (set: (labels: Record<string, string>, value: number) => void) => void): void {
      new Metric({
        name,
        help,
        labelNames,
        registers,
        collect(this: Counter | Gauge) {
          this.reset();
          read((labels, value) => this.inc(labels, value));
        },
      });
    }
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
