/** `presence/<node>`: a peer's retained online / offline announcement (its Will when it dies). */
import { decodePresence } from '../codec.ts';
import type { Handler } from './context.ts';

export const presence: Handler<'presence'> = (topic, body, parts) => {
  const { node } = topic;
  // A retained delete is unsealed: it says nothing about the peer.
  if (node === parts.nodeId || body === undefined) return;
  const message = decodePresence(body);
  if (!message || message.node !== node) return parts.invalid('presence', node);
  if (message.state === 'online') parts.peers.online(node, message);
  else parts.peers.offline(node, message);
};
