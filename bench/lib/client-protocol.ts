/**
 * What a bench client speaks on its socket: plain frames (wsmesh's `/ws`, the plain
 * ws baseline), or Engine.IO 4 / Socket.IO 4 framing over raw ws (the Socket.IO
 * column), so every server is driven by the same lean `ws` clients and only the
 * server differs.
 */

export interface ClientProtocol {
  /** The socket URL of a session on a server whose base is `ws://host:port`. */
  url(wsBase: string, session: string): string;
  /** Sent once the socket is open; the socket counts as open when `ready` sees a frame. */
  connect?: { frame: string; ready: (data: Buffer) => boolean };
  /** Bytes of the frame that carries a pushed message of `payload` bytes (ASCII, nothing to escape). */
  frameBytes(payload: number): number;
  /**
   * A frame of the protocol's own (not a pushed message): the reply to send, '' for
   * none. `undefined`: a pushed message, counted.
   */
  control(data: Buffer): string | undefined;
}

export const SOCKET_PATH = '/ws/bench';

export const plainFrames: ClientProtocol = {
  url: (wsBase, session) => `${wsBase}${SOCKET_PATH}?session=${encodeURIComponent(session)}`,
  frameBytes: (payload) => payload,
  control: () => undefined,
};

const CHAR_0 = 0x30;
const CHAR_2 = 0x32;
const CHAR_4 = 0x34;
/** `42["push","` + `"]`: an EVENT packet of the main namespace around a string. */
const EVENT_OVERHEAD = '42["push",""]'.length;

/**
 * Engine.IO 4 packets are a type digit and data: `0` open, `2` ping (answered `3`),
 * `4` message, whose Socket.IO packet is `0` CONNECT (ack) or `2` EVENT.
 */
export const socketIoFrames: ClientProtocol = {
  url: (wsBase, session) => `${wsBase}/socket.io/?EIO=4&transport=websocket&session=${encodeURIComponent(session)}`,
  connect: { frame: '40', ready: (data) => data[0] === CHAR_4 && data[1] === CHAR_0 },
  frameBytes: (payload) => payload + EVENT_OVERHEAD,
  control: (data) => {
    if (data[0] === CHAR_4 && data[1] === CHAR_2) return undefined;
    return data[0] === CHAR_2 && data.length === 1 ? '3' : '';
  },
};
