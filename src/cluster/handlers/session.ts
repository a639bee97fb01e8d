/** `sessions/<id>`: a session record or its tombstone (retained). */
import type { Handler } from './context.ts';

export const session: Handler<'session'> = (topic, body, parts) => {
  if (parts.sessions.apply(topic.sessionId, body) === 'invalid') parts.invalid('session', topic.sessionId);
};
