/**
 * The node's index of admitted connections, by (context, user, connection id) and by
 * session. Every operation a message or a handshake needs is O(1) or O(sockets of
 * one user): nothing here scans all sockets except the admin listing.
 */
import type { ConnectionActor } from '../actors/connection.machine.ts';

export interface ConnectionHandle {
  connectionId: string;
  contextId: number;
  userId: number;
  sessionId: string;
  path: string;
  prefix: string;
  remoteAddress: string;
  connectedAt: number;
  actor: ConnectionActor;
}

export function userKey(contextId: number, userId: number): string {
  return `${contextId}:${userId}`;
}

export class SocketIndex {
  private readonly byUser = new Map<string, Map<string, ConnectionHandle>>();
  private readonly bySession = new Map<string, Set<ConnectionHandle>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(handle: ConnectionHandle): void {
    const key = userKey(handle.contextId, handle.userId);
    let sockets = this.byUser.get(key);
    if (!sockets) this.byUser.set(key, (sockets = new Map()));
    if (sockets.has(handle.connectionId)) throw new Error(`connection ${handle.connectionId} already indexed`);
    sockets.set(handle.connectionId, handle);
    let ofSession = this.bySession.get(handle.sessionId);
    if (!ofSession) this.bySession.set(handle.sessionId, (ofSession = new Set()));
    ofSession.add(handle);
    this.count++;
  }

  /** Removes exactly this handle (a newer socket reusing the id is left alone). */
  remove(handle: ConnectionHandle): boolean {
    const key = userKey(handle.contextId, handle.userId);
    const sockets = this.byUser.get(key);
    if (sockets?.get(handle.connectionId) !== handle) return false;
    sockets.delete(handle.connectionId);
    if (sockets.size === 0) this.byUser.delete(key);
    const ofSession = this.bySession.get(handle.sessionId);
    ofSession?.delete(handle);
    if (ofSession?.size === 0) this.bySession.delete(handle.sessionId);
    this.count--;
    return true;
  }

  get(contextId: number, userId: number, connectionId: string): ConnectionHandle | undefined {
    return this.byUser.get(userKey(contextId, userId))?.get(connectionId);
  }

  ofUser(contextId: number, userId: number): Iterable<ConnectionHandle> {
    return this.byUser.get(userKey(contextId, userId))?.values() ?? [];
  }

  countOfUser(contextId: number, userId: number): number {
    return this.byUser.get(userKey(contextId, userId))?.size ?? 0;
  }

  ofSession(sessionId: string): Iterable<ConnectionHandle> {
    return this.bySession.get(sessionId) ?? [];
  }

  *all(): Iterable<ConnectionHandle> {
    for (const sockets of this.byUser.values()) yield* sockets.values();
  }
}
