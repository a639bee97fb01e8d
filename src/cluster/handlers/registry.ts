/** `registry/<node>/<epoch>/<ctx>/<user>`: a peer's sockets of one user (retained). */
import { decodeRegistry } from '../codec.ts';
import type { Handler } from './context.ts';

export const registry: Handler<'registry'> = (topic, body, parts) => {
  const { node, epoch, contextId, userId } = topic;
  if (node === parts.nodeId) {
    // Entries of an earlier process of this node: its sockets are gone.
    if (epoch !== parts.epoch && body !== undefined) parts.publish(parts.topics.registry(node, epoch, contextId, userId), undefined, true);
    return;
  }
  if (body === undefined) {
    // An unsealed delete may only remove what its writer no longer vouches for.
    if (!parts.view.isLive(node, epoch)) parts.view.applyRegistry(node, epoch, contextId, userId, undefined);
    return;
  }
  const entry = decodeRegistry(body);
  if (!entry) return parts.invalid('registry', node);
  // A sealed empty list is the writer's own word that the user has no socket there.
  parts.view.applyRegistry(node, epoch, contextId, userId, entry.sockets.length ? entry.sockets : undefined);
};
