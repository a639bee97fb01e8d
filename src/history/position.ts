/**
 * A message's place in its user's stream. There is no sequencer beside the broker, so
 * no single counter orders a user's messages cluster-wide: each node process (an
 * `origin`, a random id per start) numbers what it accepts with one counter of its
 * own, and every node delivers one origin's messages for a user in that order (the
 * coalescing buffer keeps a user's messages in arrival order; one link, and the
 * broker keeps one publisher's order). A stream position is therefore
 * (origin, seq), with the time it was accepted. docs/protocol.md, "Recovery".
 */
export interface Position {
  /** The process that accepted the message: 8 hex characters, new at each start. */
  origin: string;
  /** That process's counter: increasing, not contiguous per user. */
  seq: number;
  /** When it was accepted (ms since the epoch, the origin's clock). */
  at: number;
  /**
   * The seq of the previous message of the same user from the same origin (0: none
   * kept). A socket that gets a message whose `prev` it has not seen knows one went
   * missing on the way (cursor.ts keeps it as a gap), and a reader of the history
   * tells an intact one from one with entries evicted in between (plan.ts).
   */
  prev: number;
  /** The time of that previous message (0: none). */
  prevAt: number;
}

/** A message kept in its user's history: what a recovering socket needs to receive it again. */
export interface HistoryEntry extends Position {
  id: string;
  contextId: number;
  userId: number;
  message: string;
  pathFilter: string | null;
  sourceToken?: string;
}

const ORIGIN = /^[0-9a-f]{8}$/;

export function isOrigin(value: unknown): value is string {
  return typeof value === 'string' && ORIGIN.test(value);
}
