/** `sessions/_sync`: a barrier's marker; only this node's own markers mean anything here. */
import { decodeSync } from '../codec.ts';
import type { Handler } from './context.ts';

export const sync: Handler<'sync'> = (_topic, body, parts) => {
  const marker = body === undefined ? undefined : decodeSync(body);
  if (!marker) return parts.invalid('sync', 'sessions');
  if (marker.sync === parts.nodeId) parts.barrier.arrived(marker.n);
};
