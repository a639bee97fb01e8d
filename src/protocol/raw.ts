/**
 * The raw protocol on `/ws/...`: every pushed message is one text frame holding the
 * message string as is; every inbound text frame is a message for the node.
 * Binary frames are refused with 1003 (unsupported data, RFC 6455 section 7.4.1).
 */
import { CloseCode } from '../errors.ts';
import type { Inbound, WireProtocol } from './wire-protocol.ts';

function decode(data: Buffer, isBinary: boolean): Inbound {
  if (isBinary) return { kind: 'violation', closeCode: CloseCode.UNSUPPORTED_DATA, reason: 'binary frames are not accepted' };
  return { kind: 'message', text: data.toString('utf8') };
}

export const rawProtocol: WireProtocol = {
  name: 'raw',
  ping: 'ws-ping',
  greeting: () => [],
  encode: (frame) => frame.message,
  farewell: () => [],
  decode,
};

/**
 * `?envelope=1`: each message is the JSON `{"id","offset","message"}`, and the
 * stream begins with one control frame (docs/protocol.md, "Recovery"):
 * `{"type":"recovery","recovered":true,"missed":N,"offset"}` or `..."recovered":false...`
 * when the upgrade brought `since`, else `{"type":"stream","offset"}`. Control frames
 * have `type`; messages never do.
 */
export const rawEnvelopeProtocol: WireProtocol = {
  name: 'raw+envelope',
  ping: 'ws-ping',
  greeting: () => [],
  encode: (frame) => JSON.stringify({ id: frame.id, offset: frame.offset ?? null, message: frame.message }),
  streamOpened: ({ recovered, missed, offset }) => [
    JSON.stringify(recovered === undefined ? { type: 'stream', offset } : recovered ? { type: 'recovery', recovered, missed, offset } : { type: 'recovery', recovered, offset }),
  ],
  farewell: () => [],
  decode,
};
