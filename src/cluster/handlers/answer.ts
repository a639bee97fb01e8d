/** `answers/<node>`: another node's answer to one of this node's questions (queries.ts). */
import { decodeAnswer } from '../codec.ts';
import type { Handler } from './context.ts';

export const answer: Handler<'answer'> = (topic, body, parts) => {
  // Only the asker subscribes to its answers topic; another node's answers are not ours.
  if (topic.node !== parts.nodeId) return;
  const message = body === undefined ? undefined : decodeAnswer(body);
  if (!message) return parts.invalid('answer', `answers/${topic.node}`);
  parts.queries.answer(message);
};
