/**
 * Which wire protocol a served prefix speaks: a prefix ending in `/socket.io` speaks
 * Socket.IO (Engine.IO version from the `EIO` query parameter), every other the raw
 * protocol.
 */
import { rawEnvelopeProtocol, rawProtocol } from './raw.ts';
import { socketIoProtocol } from './socket-io.ts';
import type { ProtocolFactory } from './wire-protocol.ts';

export function speaksSocketIo(prefix: string): boolean {
  return prefix === '/socket.io' || prefix.endsWith('/socket.io');
}

export const selectProtocol: ProtocolFactory = (prefix, query, settings) => {
  if (speaksSocketIo(prefix)) return socketIoProtocol(query.get('EIO') === '3' ? 3 : 4, settings, undefined, (settings.historySize ?? 0) > 0);
  return query.get('envelope') === '1' ? rawEnvelopeProtocol : rawProtocol;
};
