/**
 * What this node knows of the other nodes: their presence (with the epoch of the
 * process that announced it) and their sockets, per user. Built from retained
 * presence and registry messages; this node's own sockets are not here (the local
 * index is authoritative for them).
 *
 * Registry entries carry the epoch of the process that wrote them, so entries left
 * behind by a dead or restarted process are never mistaken for live sockets: a
 * query counts only entries whose (node, epoch) is online. Queries cost
 * O(nodes holding this user's sockets), never O(all sockets).
 */
import type { PathMatcher } from '../delivery/path-filter.ts';
import { userKey } from '../delivery/socket-index.ts';
import type { RemoteSocketRow } from '../delivery/remote.ts';
import type { PresencePayload, RegistrySocket } from './codec.ts';

export interface NodeInfo {
  epoch: string;
  route: string;
  state: 'online' | 'offline';
  since: number;
}

interface UserEntry {
  epoch: string;
  sockets: RegistrySocket[];
}

export interface StaleEntry {
  node: string;
  epoch: string;
  contextId: number;
  userId: number;
}

export class ClusterView {
  private readonly nodes = new Map<string, NodeInfo>();
  /** "ctx:user" -> node -> that node's sockets of the user. */
  private readonly byUser = new Map<string, Map<string, UserEntry>>();
  /** node -> "ctx:user" keys it has entries for (any epoch), for cleanup and totals. */
  private readonly byNode = new Map<string, Set<string>>();

  constructor(private readonly self: string) {}

  /** Returns what changed: 'online', 'offline' or nothing. */
  applyPresence(node: string, presence: PresencePayload | undefined): 'online' | 'offline' | undefined {
    if (node === this.self) return undefined;
    const before = this.nodes.get(node);
    if (!presence) {
      this.nodes.delete(node);
      return before?.state === 'online' ? 'offline' : undefined;
    }
    this.nodes.set(node, { epoch: presence.epoch, route: presence.route, state: presence.state, since: presence.since });
    const wasLive = before?.state === 'online' && before.epoch === presence.epoch;
    const isLive = presence.state === 'online';
    if (isLive && !wasLive) return 'online';
    if (!isLive && before?.state === 'online') return 'offline';
    return undefined;
  }

  applyRegistry(node: string, epoch: string, contextId: number, userId: number, sockets: RegistrySocket[] | undefined): void {
    if (node === this.self) return;
    const key = userKey(contextId, userId);
    let perNode = this.byUser.get(key);
    if (!sockets || sockets.length === 0) {
      const current = perNode?.get(node);
      // A deletion for an older epoch must not remove a newer process's entry.
      if (current && current.epoch === epoch) {
        perNode!.delete(node);
        if (perNode!.size === 0) this.byUser.delete(key);
        this.byNode.get(node)?.delete(key);
      }
      return;
    }
    if (!perNode) this.byUser.set(key, (perNode = new Map()));
    const current = perNode.get(node);
    if (current && current.epoch !== epoch && this.isLive(node, current.epoch)) return; // stale write from an old process
    perNode.set(node, { epoch, sockets });
    let keys = this.byNode.get(node);
    if (!keys) this.byNode.set(node, (keys = new Set()));
    keys.add(key);
  }

  isLive(node: string, epoch: string): boolean {
    const info = this.nodes.get(node);
    return info !== undefined && info.state === 'online' && info.epoch === epoch;
  }

  epochOf(node: string): string | undefined {
    const info = this.nodes.get(node);
    return info?.state === 'online' ? info.epoch : undefined;
  }

  /** [node, epoch] of every entry (any liveness) with a socket of the user connected at or before `before` (awaiting-receipts.ts). */
  holders(contextId: number, userId: number, before: number): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const [node, entry] of this.byUser.get(userKey(contextId, userId)) ?? []) if (entry.sockets.some((s) => s.t <= before)) out.push([node, entry.epoch]);
    return out;
  }

  /** `node`'s process `epoch`'s users, each with its earliest socket's connection time (a snapshot as it is cut off). */
  usersOf(node: string, epoch: string): Array<{ contextId: number; userId: number; since: number }> {
    const out: Array<{ contextId: number; userId: number; since: number }> = [];
    for (const key of this.byNode.get(node) ?? []) {
      const entry = this.byUser.get(key)?.get(node);
      if (!entry || entry.epoch !== epoch || entry.sockets.length === 0) continue;
      const [contextId, userId] = key.split(':').map(Number);
      out.push({ contextId, userId, since: Math.min(...entry.sockets.map((s) => s.t)) });
    }
    return out;
  }

  /** Whether `node`'s process `epoch` has a socket of the user connected at or before `before`. */
  holds(node: string, epoch: string, contextId: number, userId: number, before: number): boolean {
    const entry = this.byUser.get(userKey(contextId, userId))?.get(node);
    return entry !== undefined && entry.epoch === epoch && entry.sockets.some((s) => s.t <= before);
  }

  /** The node's last presence: its process and whether it is online. */
  presenceOf(node: string): { epoch: string; online: boolean } | undefined {
    const info = this.nodes.get(node);
    return info && { epoch: info.epoch, online: info.state === 'online' };
  }

  /** Live nodes holding at least one socket of the user that matches and is not `skip`. */
  nodesFor(contextId: number, userId: number, matches: PathMatcher, skip?: string): string[] {
    const targets: string[] = [];
    for (const [node, entry] of this.live(contextId, userId)) {
      if (entry.sockets.some((s) => s.c !== skip && matches(s.p))) targets.push(node);
    }
    return targets;
  }

  exists(contextId: number, userId: number, matches: PathMatcher): boolean {
    for (const [, entry] of this.live(contextId, userId)) if (entry.sockets.some((s) => matches(s.p))) return true;
    return false;
  }

  countOfUser(contextId: number, userId: number): number {
    let count = 0;
    for (const [, entry] of this.live(contextId, userId)) count += entry.sockets.length;
    return count;
  }

  hasConnection(contextId: number, userId: number, connectionId: string): boolean {
    for (const [, entry] of this.live(contextId, userId)) if (entry.sockets.some((s) => s.c === connectionId)) return true;
    return false;
  }

  list(filter: { contextId?: number; userId?: number }): RemoteSocketRow[] {
    const rows: RemoteSocketRow[] = [];
    const keys = filter.contextId !== undefined && filter.userId !== undefined ? [userKey(filter.contextId, filter.userId)] : [...this.byUser.keys()];
    for (const key of keys) {
      const [contextId, userId] = key.split(':').map(Number);
      if (filter.contextId !== undefined && contextId !== filter.contextId) continue;
      if (filter.userId !== undefined && userId !== filter.userId) continue;
      for (const [node, entry] of this.live(contextId, userId)) {
        for (const s of entry.sockets) rows.push({ contextId, userId, path: s.p, connectionId: s.c, node, remoteAddress: s.a, connectedAt: s.t });
      }
    }
    return rows;
  }

  /** The ids of the online nodes other than this one (without counting their sockets). */
  liveNodeIds(): string[] {
    const ids: string[] = [];
    for (const [id, info] of this.nodes) if (info.state === 'online') ids.push(id);
    return ids;
  }

  /** Online nodes other than this one, with their socket counts. */
  liveNodes(): Array<{ id: string; route: string; since: number; sockets: number }> {
    const out = [];
    for (const [id, info] of this.nodes) {
      if (info.state !== 'online') continue;
      let sockets = 0;
      for (const key of this.byNode.get(id) ?? []) {
        const entry = this.byUser.get(key)?.get(id);
        if (entry?.epoch === info.epoch) sockets += entry.sockets.length;
      }
      out.push({ id, route: info.route, since: info.since, sockets });
    }
    return out;
  }

  /** Entries whose writer is not live (dead, or replaced by a newer process): to delete at the broker. */
  staleEntries(node: string): StaleEntry[] {
    const stale: StaleEntry[] = [];
    for (const key of this.byNode.get(node) ?? []) {
      const entry = this.byUser.get(key)?.get(node);
      if (!entry || this.isLive(node, entry.epoch)) continue;
      const [contextId, userId] = key.split(':').map(Number);
      stale.push({ node, epoch: entry.epoch, contextId, userId });
    }
    return stale;
  }

  knownNodes(): string[] {
    return [...new Set([...this.nodes.keys(), ...this.byNode.keys()])];
  }

  /** Forget everything (the broker lost its state; retained messages will rebuild it). */
  clear(): void {
    this.nodes.clear();
    this.byUser.clear();
    this.byNode.clear();
  }

  private *live(contextId: number, userId: number): Iterable<[string, UserEntry]> {
    const perNode = this.byUser.get(userKey(contextId, userId));
    if (!perNode) return;
    for (const [node, entry] of perNode) if (this.isLive(node, entry.epoch)) yield [node, entry];
  }
}
