/** `queries`: a question from another node (queries.ts); answered on the asker's answers topic. */
import { decodeQuestion } from '../codec.ts';
import type { Handler } from './context.ts';

export const question: Handler<'question'> = (_topic, body, parts) => {
  const message = body === undefined ? undefined : decodeQuestion(body);
  if (!message) return parts.invalid('question', 'queries');
  // The asker answered itself; a question older than its wait (a persistent session's
  // backlog after a reconnection) has nobody listening for the answer.
  if (message.from === parts.nodeId || parts.now() - message.at > message.ttl) return;
  void parts.queries.question(message);
};
