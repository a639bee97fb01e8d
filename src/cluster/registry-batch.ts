/**
 * This node's registry entries (`.../registry/<node>/<epoch>/<context>/<user>`: the
 * user's sockets here) are republished whole when they change. Opening 20 sockets
 * of one user in a burst would republish a growing list 20 times, O(sockets²) bytes;
 * instead a change marks the user, and each marked user is published once at the end
 * of the turn, with the list as it is then.
 *
 * The registry serves estimates (the push answer's `remote`, listings, the
 * cluster-wide socket limit); delivery does not read it (a socket's read-your-writes
 * comes from the per-user delivery subscription, confirmed before the 101), so a
 * turn's delay loses nothing.
 */
import { userKey } from '../delivery/socket-index.ts';

export interface Turn {
  schedule(run: () => void): unknown;
  cancel(handle: unknown): void;
}

/** The end of the current event-loop turn: every handshake of one I/O phase lands in one batch. */
export const immediateTurn: Turn = {
  schedule: (run) => setImmediate(run),
  cancel: (handle) => clearImmediate(handle as NodeJS.Immediate),
};

export class RegistryBatch {
  private readonly marked = new Map<string, { contextId: number; userId: number }>();
  private scheduled: unknown;

  constructor(
    private readonly publish: (contextId: number, userId: number) => void,
    private readonly turn: Turn = immediateTurn,
  ) {}

  get pending(): number {
    return this.marked.size;
  }

  mark(contextId: number, userId: number): void {
    const key = userKey(contextId, userId);
    if (!this.marked.has(key)) this.marked.set(key, { contextId, userId });
    if (this.scheduled === undefined) this.scheduled = this.turn.schedule(() => this.flush());
  }

  /** Publishes every marked user now (the turn does it; a shutdown calls it last). */
  flush(): void {
    if (this.scheduled !== undefined) this.turn.cancel(this.scheduled);
    this.scheduled = undefined;
    const users = [...this.marked.values()];
    this.marked.clear();
    for (const { contextId, userId } of users) this.publish(contextId, userId);
  }
}
