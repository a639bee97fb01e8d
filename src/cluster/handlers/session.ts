/** `sessions/<id>`: a session record or its tombstone (retained). */
import { encode } from '../codec.ts';
import type { Handler } from './context.ts';

export const session: Handler<'session'> = (topic, body, parts, retained) => {
  const result = parts.sessions.apply(topic.sessionId, body);
  if (result === 'invalid') return parts.invalid('session', topic.sessionId);
  // A logout as it happened: its node answers 204 once every live node said it applied it
  // (end-confirmations.ts). A stored copy sent on subscribing is nobody's wait.
  if ((result === 'ended' || result === 'noted') && !retained)
    parts.publish(parts.topics.sessionEnded(), encode({ v: 1, confirms: topic.sessionId, by: parts.nodeId }), false);
};
