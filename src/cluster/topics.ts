/**
 * The MQTT topics of a cluster (pure: build and parse, no I/O). Everything lives
 * under `<cluster.name>/`, so clusters can share a broker; node-internal traffic is
 * under `<name>/internal/`, apart from the device-facing `<name>/ingress/` subtree,
 * so broker ACLs can give nodes and devices different rights. docs/cluster.md has
 * the table of topics, payloads, QoS and retain flags.
 */

export type TopicKind = 'presence' | 'registry' | 'session' | 'inbox' | 'command';

export type ParsedTopic =
  | { kind: 'presence'; node: string }
  | { kind: 'registry'; node: string; epoch: string; contextId: number; userId: number }
  | { kind: 'session'; sessionId: string }
  | { kind: 'inbox'; node: string }
  | { kind: 'command' };

/** Node ids, epochs and session ids are topic levels: no `/`, `+`, `#`, or empty. */
const LEVEL = /^[A-Za-z0-9_-]{1,64}$/;
const ID = /^[1-9][0-9]{0,15}$/;

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

  inbox(node: string): string {
    return `${this.internal}/inbox/${level(node)}`;
  }

  commands(): string {
    return `${this.internal}/commands`;
  }

  /** What every node subscribes to (its own inbox, everyone's state, commands). */
  subscriptions(node: string): string[] {
    return [
      `${this.internal}/presence/+`,
      `${this.internal}/registry/#`,
      `${this.internal}/sessions/+`,
      this.inbox(node),
      this.commands(),
    ];
  }

  /** Devices publish to users here (a later issue); a separate subtree for ACLs. */
  ingress(contextId: number, userId: number): string {
    return `${this.root}/ingress/${contextId}/${userId}`;
  }

  parse(topic: string): ParsedTopic | undefined {
    if (!topic.startsWith(this.internal + '/')) return undefined;
    const parts = topic.slice(this.internal.length + 1).split('/');
    switch (parts[0]) {
      case 'presence':
        return parts.length === 2 && LEVEL.test(parts[1]) ? { kind: 'presence', node: parts[1] } : undefined;
      case 'registry':
        return parts.length === 5 && LEVEL.test(parts[1]) && LEVEL.test(parts[2]) && ID.test(parts[3]) && ID.test(parts[4])
          ? { kind: 'registry', node: parts[1], epoch: parts[2], contextId: Number(parts[3]), userId: Number(parts[4]) }
          : undefined;
      case 'sessions':
        return parts.length === 2 && LEVEL.test(parts[1]) ? { kind: 'session', sessionId: parts[1] } : undefined;
      case 'inbox':
        return parts.length === 2 && LEVEL.test(parts[1]) ? { kind: 'inbox', node: parts[1] } : undefined;
      case 'commands':
        return parts.length === 1 ? { kind: 'command' } : undefined;
      default:
        return undefined;
    }
  }
}

function level(value: string): string {
  if (!LEVEL.test(value)) throw new Error(`not a valid topic level: ${JSON.stringify(value)}`);
  return value;
}
