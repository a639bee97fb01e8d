/**
 * Socket.IO over Engine.IO, websocket transport only, the `/` namespace only (pure:
 * frames in, frames out). Engine.IO v4 pairs with the Socket.IO v5 protocol
 * (socket.io-client 3.x/4.x), Engine.IO v3 with Socket.IO v4 (socket.io-client 2.x).
 *
 *                      EIO=3 (client 2.x)              EIO=4 (client 3.x/4.x)
 *   open               0{sid,upgrades,pingInterval,    0{sid,upgrades,pingInterval,
 *                        pingTimeout}, then 40           pingTimeout,maxPayload}
 *   connect to /       sent by the server with open    client 40 -> server 40{"sid"}
 *   heartbeat          client 2 -> server 3            server 2 -> client 3
 *   event              42["name",...args]              42["name",...args]
 *   ack                43<id>[...]                     43<id>[...]
 *
 * Protocol specs: https://github.com/socketio/engine.io-protocol,
 * https://github.com/socketio/socket.io-protocol (v4 and v5).
 */
import { randomBytes } from 'node:crypto';
import { CloseCode } from '../errors.ts';
import type { Inbound, ProtocolSettings, WireProtocol } from './wire-protocol.ts';

export type EngineVersion = 3 | 4;

/** Engine.IO packet types (the first character of a text frame). */
const OPEN = '0';
const CLOSE = '1';
const PING = '2';
const PONG = '3';
const MESSAGE = '4';
const UPGRADE = '5';
const NOOP = '6';

/** Socket.IO packet types (the character after Engine.IO's MESSAGE). */
const CONNECT = '0';
const DISCONNECT = '1';
const EVENT = '2';
const ACK = '3';
const BINARY_EVENT = '5';
const BINARY_ACK = '6';

const malformed = (reason: string): Inbound => ({ kind: 'violation', closeCode: CloseCode.MALFORMED_PACKET, reason });

/**
 * Event names the clients reserve for themselves: emitting one would fire the app's
 * own connect/disconnect handlers (2.x) or drop the connection (4.x), so a push with
 * such a name goes out as the event `message`, like the reference server refuses them.
 */
const RESERVED_EVENTS = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener', 'error']);

/**
 * `42["name",...args]` for a pushed message: `{"name","args"}` becomes that event,
 * anything else the event `message`. With an offset (connection state recovery on),
 * it is the last argument, as Socket.IO's own server sends it: the client keeps the
 * last string argument of each event as the offset it brings back on reconnect.
 */
export function encodeEvent(message: string, offset?: string): string {
  const tail = offset === undefined ? [] : [offset];
  if (message.startsWith('{')) {
    try {
      const value = JSON.parse(message) as { name?: unknown; args?: unknown };
      if (typeof value.name === 'string' && Array.isArray(value.args) && !RESERVED_EVENTS.has(value.name)) {
        return `42${JSON.stringify([value.name, ...value.args, ...tail])}`;
      }
    } catch {
      // not JSON: sent as the message string
    }
  }
  return `42${JSON.stringify(['message', message, ...tail])}`;
}

/** What a v5 CONNECT packet's payload brings back for recovery (socket.io-client 4.6+ merges it into its auth). */
function recoveryOf(data: string): { pid?: string; offset?: string } {
  if (!data) return {};
  try {
    const value = JSON.parse(data) as { pid?: unknown; offset?: unknown } | null;
    if (!value || typeof value !== 'object') return {};
    return {
      pid: typeof value.pid === 'string' && value.pid.length <= 256 ? value.pid : undefined,
      offset: typeof value.offset === 'string' && value.offset.length <= 4096 ? value.offset : undefined,
    };
  } catch {
    return {};
  }
}

/** The parts of a Socket.IO packet after its type: `[/nsp,][ackId][json]`. */
interface PacketBody {
  nsp: string;
  ackId?: number;
  data: string;
}

function parseBody(rest: string): PacketBody | undefined {
  let i = 0;
  let nsp = '/';
  if (rest[0] === '/') {
    const comma = rest.indexOf(',');
    if (comma === -1) return { nsp: rest, data: '' };
    nsp = rest.slice(0, comma);
    i = comma + 1;
  }
  const start = i;
  while (i < rest.length && rest.charCodeAt(i) >= 48 && rest.charCodeAt(i) <= 57) i++;
  const ackId = i > start ? Number(rest.slice(start, i)) : undefined;
  if (ackId !== undefined && !Number.isSafeInteger(ackId)) return undefined;
  return { nsp, ackId, data: rest.slice(i) };
}

/**
 * `recovery`: connection state recovery (history on, Engine.IO v4 only: client 2.x
 * has none). The CONNECT answer then waits for the history, carries a `pid`, and
 * each event carries its offset.
 */
export function socketIoProtocol(version: EngineVersion, settings: ProtocolSettings, sid = randomBytes(15).toString('base64url'), recovery = false): WireProtocol {
  const invalidNamespace = (nsp: string) => (version === 4 ? `44${nsp},{"message":"Invalid namespace"}` : `44${nsp},"Invalid namespace"`);
  const open = version === 4
    ? { sid, upgrades: [], pingInterval: settings.pingInterval, pingTimeout: settings.pingTimeout, maxPayload: settings.maxPayload }
    : { sid, upgrades: [], pingInterval: settings.pingInterval, pingTimeout: settings.pingTimeout };

  function decodeSocketIo(packet: string): Inbound {
    const type = packet[0];
    const body = parseBody(packet.slice(1));
    if (type === undefined || !body) return malformed('malformed Socket.IO packet');
    switch (type) {
      case CONNECT: {
        // socket.io-client 2.x appends its query to the namespace (`/admin?session=..`);
        // it only listens for an error about the namespace itself.
        const nsp = version === 3 ? body.nsp.split('?')[0] : body.nsp;
        if (nsp !== '/') return { kind: 'reply', frames: [invalidNamespace(nsp)] };
        if (recovery && version === 4) return { kind: 'connect', ...recoveryOf(body.data) };
        // v5: the client asks, the server answers with the socket's id; v4: the server
        // already sent 40 with the open packet, a repeat is answered the same way.
        return { kind: 'reply', frames: [version === 4 ? `40${JSON.stringify({ sid: `${sid}#0` })}` : '40'] };
      }
      case DISCONNECT:
        return { kind: 'violation', closeCode: CloseCode.NORMAL, reason: 'client disconnected' };
      case EVENT: {
        if (body.nsp !== '/') return { kind: 'reply', frames: [] };
        let args: unknown;
        try {
          args = JSON.parse(body.data);
        } catch {
          return malformed('event payload is not JSON');
        }
        if (!Array.isArray(args) || typeof args[0] !== 'string') return malformed('event payload must be ["name", ...args]');
        const [name, ...rest] = args as [string, ...unknown[]];
        const reply = body.ackId === undefined ? undefined : [`43${body.ackId}[]`];
        return { kind: 'message', text: JSON.stringify({ name, args: rest }), reply, event: { name, args: rest } };
      }
      case ACK:
        return { kind: 'reply', frames: [] }; // the server never asks for acks
      case BINARY_EVENT:
      case BINARY_ACK:
        return { kind: 'violation', closeCode: CloseCode.UNSUPPORTED_DATA, reason: 'binary Socket.IO packets are not supported' };
      default:
        return malformed(`unknown Socket.IO packet type ${JSON.stringify(type)}`);
    }
  }

  return {
    name: `socket.io/eio${version}`,
    ping: version === 4 ? { frame: PING } : 'client-pings',
    greeting: () => (version === 4 ? [`${OPEN}${JSON.stringify(open)}`] : [`${OPEN}${JSON.stringify(open)}`, '40']),
    encode: (frame) => encodeEvent(frame.message, frame.offset),
    streamOpened: recovery && version === 4 ? ({ pid }) => [`40${JSON.stringify({ sid: `${sid}#0`, pid })}`] : undefined,
    farewell: (reason) => (reason === 'session-ended' ? ['42["session:invalid"]', '41'] : ['41']),
    decode(data: Buffer, isBinary: boolean): Inbound {
      if (isBinary) return { kind: 'violation', closeCode: CloseCode.UNSUPPORTED_DATA, reason: 'binary frames are not supported' };
      const text = data.toString('utf8');
      switch (text[0]) {
        case PING:
          // v3: the client's heartbeat, answered with the same payload; v4: unexpected but harmless.
          return { kind: 'alive', reply: [`${PONG}${text.slice(1)}`] };
        case PONG:
          return { kind: 'alive' };
        case MESSAGE:
          return decodeSocketIo(text.slice(1));
        case CLOSE:
          return { kind: 'violation', closeCode: CloseCode.NORMAL, reason: 'client closed' };
        case UPGRADE:
        case NOOP:
          return { kind: 'reply', frames: [] };
        default:
          return malformed(`unknown Engine.IO packet type ${JSON.stringify(text[0] ?? '')}`);
      }
    },
  };
}
