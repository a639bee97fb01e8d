/**
 * The MQTT topics of a cluster (pure: build and parse, no I/O). Everything lives
 * under `<cluster.name>/`, so clusters can share a broker; node-internal traffic is
 * under `<name>/internal/`, apart from the device-facing `<name>/ingress/` subtree,
 * so broker ACLs can give nodes and devices different rights. docs/cluster.md has
 * the table of topics, payloads, QoS and retain flags.
 */

export type ParsedTopic =
  | { kind: 'presence'; node: string }
  | { kind: 'registry'; node: string; epoch: string; contextId: number; userId: number }
  | { kind: 'session'; sessionId: string }
  | { kind: 'sync'; lane: SyncLane }
  | { kind: 'ended' }
  | { kind: 'deliver'; contextId: number; userId: number }
  | { kind: 'pushes' }
  | { kind: 'command' }
  /** A user's history: an entry in an origin's ring slot, or a reader's end marker. */
  | { kind: 'history'; contextId: number; userId: number; entry?: { origin: string; slot: number }; marker?: string }
  | { kind: 'question' }
  | { kind: 'answer'; node: string }
  | { kind: 'receipt'; node: string };

export type TopicKind = ParsedTopic['kind'];

/**
 * The subscriptions a read-your-writes barrier can cover (barrier.ts). A marker is
 * published under the same subscription as the state it vouches for: a clustered
 * broker orders messages per subscription, not across them.
 */
export type SyncLane = 'sessions' | 'pushes';

/** Node ids, epochs and session ids are topic levels: no `/`, `+`, `#`, or empty. */
const LEVEL = /^[A-Za-z0-9_-]{1,64}$/;
const ID = /^[1-9][0-9]{0,15}$/;
/** The barrier's marker level under `sessions/`: never a session id (those are hex). */
const SYNC = '_sync';
/** Where nodes confirm they applied a logout, under `sessions/` too. */
const ENDED = '_ended';
/** A history reader's marker level: never an origin (those are 8 hex digits). */
const MARKER = '_m';
const ORIGIN = /^[0-9a-f]{8}$/;
const SLOT = /^(0|[1-9][0-9]{0,5})$/;

export class Topics {
  readonly root: string;
  private readonly internal: string;

  constructor(clusterName: string) {
    if (!LEVEL.test(clusterName)) throw new Error(`cluster.name must match ${LEVEL}: ${clusterName}`);
    this.root = clusterName;
    this.internal = `${clusterName}/internal`;
  }

  presence(node: string): string {
    return `${this.internal}/presence/${level(node)}`;
  }

  registry(node: string, epoch: string, contextId: number, userId: number): string {
    return `${this.internal}/registry/${level(node)}/${level(epoch)}/${contextId}/${userId}`;
  }

  session(sessionId: string): string {
    return `${this.internal}/sessions/${level(sessionId)}`;
  }

  /** A user's delivery topic: subscribed by every node holding a socket of the user. */
  deliver(contextId: number, userId: number): string {
    return `${this.internal}/deliver/${contextId}/${userId}`;
  }

  /**
   * A second filter on a user's delivery topic, subscribed at QoS 0 when
   * cluster.fastPath is on: `#` also matches its parent level (MQTT 3.1.1 section
   * 4.7.1.2), so it matches the delivery topic alone. The broker then hands each
   * delivery over twice: through its plain routing (on NATS: core NATS, no JetStream
   * consumer in the way) and through the QoS 1 subscription, which covers the time the
   * link is down. The node drops the second copy by the message's id.
   */
  deliverCopy(contextId: number, userId: number): string {
    return `${this.deliver(contextId, userId)}/#`;
  }

  /** Whether `filter` is a fastPath copy (deliverCopy or controlCopy), subscribed at QoS 0. */
  isCopy(filter: string): boolean {
    return filter.endsWith('/#') && (filter.startsWith(`${this.internal}/deliver/`) || filter === `${this.internal}/sessions/#`);
  }

  /** Ids of accepted pushes, for the cluster-wide duplicate check. */
  pushes(): string {
    return `${this.internal}/pushes`;
  }

  /** Where a barrier's marker for `lane` goes: under that lane's own subscription. */
  sync(lane: SyncLane): string {
    return lane === 'sessions' ? `${this.internal}/sessions/${SYNC}` : this.pushes();
  }

  /** Each node confirms here that it applied a logout's tombstone (the 204 waits for every live node). */
  sessionEnded(): string {
    return `${this.internal}/sessions/${ENDED}`;
  }

  /**
   * One slot of a user's history ring, retained: each origin (a node process) keeps
   * its own ring per user, `websockets.history.size` slots (src/history/).
   */
  history(contextId: number, userId: number, origin: string, slot: number): string {
    return `${this.internal}/history/${contextId}/${userId}/${origin}/${slot}`;
  }

  /** Everything of a user's history: a reader subscribes to it (QoS 0) and gets the retained slots. */
  historyFilter(contextId: number, userId: number): string {
    return `${this.internal}/history/${contextId}/${userId}/#`;
  }

  /** A reader's marker: it comes back after the retained slots, so the reader knows it has them all. */
  historyMarker(contextId: number, userId: number, nonce: string): string {
    return `${this.internal}/history/${contextId}/${userId}/${MARKER}/${level(nonce)}`;
  }

  historyPrefix(): string {
    return `${this.internal}/history/`;
  }

  commands(): string {
    return `${this.internal}/commands`;
  }

  /** Questions to every live node (queries.ts): each answers on the asker's answers topic. */
  queries(): string {
    return `${this.internal}/queries`;
  }

  /** Where `node` gets the answers to its questions; only that node subscribes to it. */
  answers(node: string): string {
    return `${this.internal}/answers/${level(node)}`;
  }

  /** Where `node` gets the receipts for its delivery publishes (receipts.ts); only that node subscribes to it. */
  receipts(node: string): string {
    return `${this.internal}/receipts/${level(node)}`;
  }

  /**
   * What every node's main connection subscribes to for its whole life; delivery
   * topics come and go with sockets. With `node`, also the questions and that node's
   * answers and receipts topics.
   */
  subscriptions(node?: string): string[] {
    const always = [`${this.internal}/presence/+`, `${this.internal}/registry/#`, this.pushes(), this.commands()];
    return node === undefined ? always : [...always, this.queries(), this.answers(node), this.receipts(node)];
  }

  /**
   * The control connection's only subscription: sessions, their barrier markers and
   * logout confirmations. A connection of its own, so that no burst of deliveries and
   * no SUBSCRIBE of a user's topic stands between a login and the node that checks it
   * (NATS reads a connection's PUBACKs only after its SUBSCRIBE is done, and holds
   * messages back past max_ack_pending in flight to one session).
   */
  controlSubscriptions(fastPath = false): string[] {
    const sessions = `${this.internal}/sessions/+`;
    return fastPath ? [sessions, this.controlCopy()] : [sessions];
  }

  /**
   * The control connection's fastPath copy, at QoS 0 (like deliverCopy): records,
   * tombstones, markers and confirmations also come through the broker's plain
   * routing, so one that NATS's JetStream holds back still comes at once. Each is
   * applied idempotently, so the second copy changes nothing.
   */
  controlCopy(): string {
    return `${this.internal}/sessions/#`;
  }

  /** Whether `topic` goes over the control connection (everything under `sessions/`). */
  isControl(topic: string): boolean {
    return topic.startsWith(`${this.internal}/sessions/`);
  }

  /** Devices and backends publish to users here (the MQTT ingress, mqtt/ingress.ts); a subtree of its own for ACLs. */
  ingress(contextId: number, userId: number): string {
    return `${this.root}/ingress/${contextId}/${userId}`;
  }

  /** `<root>/ingress/`: what every ingress topic starts with. */
  ingressPrefix(): string {
    return `${this.root}/ingress/`;
  }

  /**
   * What a node holding a socket of the user subscribes to (QoS 1), beside the
   * delivery topic: the user's ingress topic and every path below it (`#` also
   * matches its parent level).
   */
  ingressFilter(contextId: number, userId: number): string {
    return `${this.ingress(contextId, userId)}/#`;
  }

  /**
   * Every user's ingress topics: what a node subscribes to once with
   * mqtt.ingressSubscription `node`. Not `<root>/ingress/#`: on NATS a `#` filter is
   * also a subscription to its parent subject (`<root>.ingress`), which the node
   * accounts' `<root>.ingress.>` permission does not cover, so NATS would refuse it.
   */
  ingressAll(): string {
    return `${this.root}/ingress/+/+/#`;
  }

  /** Where a client's frame is published when mqtt.egress is on (mqtt/egress.ts). */
  egress(contextId: number, userId: number, connectionId: string): string {
    return `${this.root}/egress/${contextId}/${userId}/${level(connectionId)}`;
  }

  parse(topic: string): ParsedTopic | undefined {
    if (!topic.startsWith(this.internal + '/')) return undefined;
    const parts = topic.slice(this.internal.length + 1).split('/');
    switch (parts[0]) {
      case 'presence':
        return parts.length === 2 && LEVEL.test(parts[1]) ? { kind: 'presence', node: parts[1] } : undefined;
      case 'registry':
        return parts.length === 5 && LEVEL.test(parts[1]) && LEVEL.test(parts[2]) && isId(parts[3]) && isId(parts[4])
          ? { kind: 'registry', node: parts[1], epoch: parts[2], contextId: Number(parts[3]), userId: Number(parts[4]) }
          : undefined;
      case 'sessions':
        if (parts.length !== 2) return undefined;
        if (parts[1] === SYNC) return { kind: 'sync', lane: 'sessions' };
        if (parts[1] === ENDED) return { kind: 'ended' };
        return LEVEL.test(parts[1]) ? { kind: 'session', sessionId: parts[1] } : undefined;
      case 'deliver':
        return parts.length === 3 && isId(parts[1]) && isId(parts[2]) ? { kind: 'deliver', contextId: Number(parts[1]), userId: Number(parts[2]) } : undefined;
      case 'pushes':
        return parts.length === 1 ? { kind: 'pushes' } : undefined;
      case 'commands':
        return parts.length === 1 ? { kind: 'command' } : undefined;
      case 'history': {
        if (parts.length !== 5 || !isId(parts[1]) || !isId(parts[2])) return undefined;
        const [contextId, userId] = [Number(parts[1]), Number(parts[2])];
        if (parts[3] === MARKER) return LEVEL.test(parts[4]) ? { kind: 'history', contextId, userId, marker: parts[4] } : undefined;
        return ORIGIN.test(parts[3]) && SLOT.test(parts[4]) ? { kind: 'history', contextId, userId, entry: { origin: parts[3], slot: Number(parts[4]) } } : undefined;
      }
      case 'queries':
        return parts.length === 1 ? { kind: 'question' } : undefined;
      case 'answers':
        return parts.length === 2 && LEVEL.test(parts[1]) ? { kind: 'answer', node: parts[1] } : undefined;
      case 'receipts':
        return parts.length === 2 && LEVEL.test(parts[1]) ? { kind: 'receipt', node: parts[1] } : undefined;
      default:
        return undefined;
    }
  }
}

/** 16 digits reach past 2^53: such a level would parse to another (rounded) number. */
function isId(value: string): boolean {
  return ID.test(value) && Number.isSafeInteger(Number(value));
}

function level(value: string): string {
  if (!LEVEL.test(value)) throw new Error(`not a valid topic level: ${JSON.stringify(value)}`);
  return value;
}
