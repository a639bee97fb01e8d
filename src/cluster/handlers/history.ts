/**
 * `history/<ctx>/<user>/<origin>/<slot>` and the readers' markers: this node reads a
 * user's history only while a socket of the user recovers (it subscribes for the
 * read), so everything here goes to the reader.
 */
import type { Handler } from './context.ts';

export const history: Handler<'history'> = (topic, body, parts, retained) => {
  parts.local.history(topic.contextId, topic.userId, topic.entry ? body : undefined, topic.marker, retained);
};
