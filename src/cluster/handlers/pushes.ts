/** `pushes`: ids of pushes another node accepted (the 202's duplicate check), and barrier markers. */
import { decodePushes, isSyncMarker } from '../codec.ts';
import type { Handler } from './context.ts';

export const pushes: Handler<'pushes'> = (_topic, body, parts) => {
  const message = body === undefined ? undefined : decodePushes(body);
  if (!message) return parts.invalid('pushes', 'pushes');
  if (isSyncMarker(message)) {
    if (message.sync === parts.nodeId) parts.barrier.arrived(message.n);
    return;
  }
  if (message.from === parts.nodeId || parts.now() - message.at > parts.window()) return;
  for (const id of message.ids) parts.pushIds.add(id);
};
