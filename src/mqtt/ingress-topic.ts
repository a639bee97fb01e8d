/**
 * The ingress topic, parsed (pure): `<root>/ingress/<contextId>/<userId>[/<segment>...]`.
 * The trailing segments are the message's path filter, under the HTTP push's grammar
 * (delivery/path-filter.ts): `.../3/ws/mail` is `/ws/mail`, a last segment `*` makes
 * it `/ws/mail/*`, `.../3/*` alone is `/*` (every socket with a path), and no
 * segments address every socket of the user.
 */
import { compilePathFilter } from '../delivery/path-filter.ts';

export interface IngressTarget {
  contextId: number;
  userId: number;
  /** null: every socket of the user. */
  pathFilter: string | null;
}

/** Why a topic under `<root>/ingress/` addresses nobody. */
export type IngressTopicProblem = 'topic' | 'path';

const ID = /^[1-9][0-9]{0,15}$/;

/** Parses a topic known to start with `<root>/ingress/`; `prefix` is that, slash included. */
export function parseIngressTopic(topic: string, prefix: string): IngressTarget | { problem: IngressTopicProblem } {
  if (!topic.startsWith(prefix)) return { problem: 'topic' };
  const levels = topic.slice(prefix.length).split('/');
  if (levels.length < 2 || !isId(levels[0]) || !isId(levels[1])) return { problem: 'topic' };
  const target = { contextId: Number(levels[0]), userId: Number(levels[1]) };
  if (levels.length === 2) return { ...target, pathFilter: null };
  const pathFilter = '/' + levels.slice(2).join('/');
  try {
    compilePathFilter(pathFilter);
  } catch {
    return { problem: 'path' };
  }
  return { ...target, pathFilter };
}

/** 16 digits reach past 2^53: such a level would parse to another (rounded) number. */
function isId(level: string): boolean {
  return ID.test(level) && Number.isSafeInteger(Number(level));
}
