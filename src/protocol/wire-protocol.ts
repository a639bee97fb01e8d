/**
 * One wire protocol spoken on an open socket. The connection actor knows nothing of
 * frames: it asks its protocol what to write and what an inbound frame means.
 * Raw is the only protocol of issue 2; Engine.IO / Socket.IO plugs in here later.
 * Implementations are pure (no I/O): they return frames, the actor writes them.
 */

export type Farewell = 'session-ended' | 'closed-by-admin';

/** What an inbound frame means to the connection. */
/** A Socket.IO event as the client emitted it: its name and arguments. */
export interface ClientEvent {
  name: string;
  args: unknown[];
}

export type Inbound =
  /** An application message for the node's inbound handling, and frames to answer with (an ack). */
  | { kind: 'message'; text: string; reply?: string[]; event?: ClientEvent }
  /** A sign of life (a protocol-level ping or pong); frames to answer with, if any. */
  | { kind: 'alive'; reply?: string[] }
  /** Frames to answer with, nothing for the application. */
  | { kind: 'reply'; frames: string[] }
  /** A frame the protocol cannot accept: close with this code. */
  | { kind: 'violation'; closeCode: number; reason: string }
  /**
   * Socket.IO's CONNECT with connection state recovery on: its answer waits for the
   * history (Stream opened). `pid` and `offset` are what the client brought back.
   */
  | { kind: 'connect'; pid?: string; offset?: string };

/** One pushed message as a frame carries it. */
export interface Frame {
  id: string;
  message: string;
  /** The socket's stream position after this message (history on and a protocol that shows it). */
  offset?: string;
}

/** How a socket's stream began: fresh, or recovered (or not) from what the client brought. */
export interface StreamOpened {
  /** undefined: the client asked for nothing to be recovered. */
  recovered?: boolean;
  missed: number;
  /** The socket's stream position before the first frame that follows. */
  offset: string;
  /** Socket.IO's private session id to answer with (the client's own when recovered). */
  pid?: string;
}

export interface WireProtocol {
  readonly name: string;
  /** Frames written right after the upgrade (e.g. Engine.IO's open packet). */
  greeting(connectionId: string): string[];
  /** The frame carrying one pushed message. */
  encode(frame: Frame): string;
  /**
   * For protocols with a stream (history on): the frames that begin it, before any
   * missed or live message (raw envelope: the recovery frame; Socket.IO: the
   * CONNECT answer, which then names the pid).
   */
  streamOpened?(opened: StreamOpened): string[];
  /**
   * Frames written before a close the client should not answer by reconnecting at
   * once: the session ended (Socket.IO: `session:invalid`, then a server
   * disconnect) or an operator closed it (a server disconnect).
   */
  farewell(reason: Farewell): string[];
  /** Interprets one inbound frame. */
  decode(data: Buffer, isBinary: boolean): Inbound;
  /**
   * How liveness is probed: `ws-ping` sends WebSocket ping frames and waits for
   * pongs; a string is a protocol-level ping frame to write instead.
   */
  readonly ping: 'ws-ping' | { frame: string } | 'client-pings';
}

export interface ProtocolSettings {
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
  /** websockets.history.size: 0 turns history, and with it Socket.IO's connection state recovery, off. */
  historySize?: number;
}

/** Picks the protocol for a socket from its served prefix (`/ws`, `/socket.io`) and query. */
export type ProtocolFactory = (prefix: string, query: URLSearchParams, settings: ProtocolSettings) => WireProtocol;
