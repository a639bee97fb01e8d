/** A message on its way to a user's sockets, wherever they are. */
export interface OutboundMessage {
  /**
   * Its id, given where it entered (the push's `id`, or one the node made): it
   * travels with the message to every node, which delivers an id once.
   */
  id: string;
  message: string;
  contextId: number;
  userId: number;
  /** null: every socket of the user. */
  pathFilter: string | null;
  /** A connection id to skip: the sender's own socket. Carried to remote nodes too. */
  sourceToken?: string;
  /** Pushed with `"trace": true`: every node keeps its delivery trace apart, past the ring of recent messages (trace.keep). */
  keep?: boolean;
}
