/**
 * `deliver/<ctx>/<user>`: messages for a user's sockets, published by the node that
 * accepted them. This node is subscribed because it holds a socket of the user.
 */
import { decodeDelivery } from '../codec.ts';
import type { Handler } from './context.ts';

export const deliver: Handler<'deliver'> = (topic, body, parts) => {
  const message = body === undefined ? undefined : decodeDelivery(body);
  if (!message) return parts.invalid('deliver', `${topic.contextId}:${topic.userId}`);
  // The sender wrote to its own sockets when it accepted the push.
  if (message.from === parts.nodeId) return;
  if (parts.now() - message.at > parts.window()) {
    parts.stats.drop('stale', message.p.length);
    parts.log.info('cluster.stale_delivery', { from: message.from, messages: message.p.length });
    return;
  }
  for (const item of message.p) {
    parts.stats.remoteReceived++;
    const position = item.o === undefined ? undefined : { origin: item.o, seq: item.q!, at: item.t! };
    parts.local.deliver({ id: item.i, message: item.m, contextId: topic.contextId, userId: topic.userId, pathFilter: message.filter, sourceToken: item.s, position });
  }
};
