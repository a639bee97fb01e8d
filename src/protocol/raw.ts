/**
 * The raw protocol on `/ws/...`: every pushed message is one text frame holding the
 * message string as is; every inbound text frame is a message for the node.
 * Binary frames are refused with 1003 (unsupported data, RFC 6455 section 7.4.1).
 */
import { CloseCode } from '../errors.ts';
import type { Inbound, WireProtocol } from './wire-protocol.ts';

export const rawProtocol: WireProtocol = {
  name: 'raw',
  ping: 'ws-ping',
  greeting: () => [],
  encode: (message) => message,
  farewell: () => [],
  decode(data: Buffer, isBinary: boolean): Inbound {
    if (isBinary) return { kind: 'violation', closeCode: CloseCode.UNSUPPORTED_DATA, reason: 'binary frames are not accepted' };
    return { kind: 'message', text: data.toString('utf8') };
  },
};
