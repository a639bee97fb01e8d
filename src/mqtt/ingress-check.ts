/**
 * Whether an MQTT ingress message may go to a user's sockets (pure). The same rules
 * run where the message enters and where it is delivered: in the embedded broker,
 * which knows the publishing account and can name it in the log, and on every node
 * that receives it from an external broker, which cannot.
 *
 * The checks, in order, each with its drop reason (docs/iot.md):
 * topic levels (`invalid_topic`), the path segments (`invalid_path`), the size
 * (`too_large`), UTF-8 (`invalid_utf8`), the recipient in the directory
 * (`unknown_user`) and the cascade (`disabled`).
 */
import { isUtf8 } from 'node:buffer';
import { parseIngressTopic, type IngressTarget } from './ingress-topic.ts';

export type IngressDropReason = 'invalid_topic' | 'invalid_path' | 'too_large' | 'invalid_utf8' | 'unknown_user' | 'disabled' | 'retained' | 'duplicate';

export const INGRESS_DROP_REASONS: readonly IngressDropReason[] = ['invalid_topic', 'invalid_path', 'too_large', 'invalid_utf8', 'unknown_user', 'disabled', 'retained', 'duplicate'];

/** Whether a user may receive: in the directory, and enabled through the cascade. */
export type Recipient = 'ok' | 'unknown' | 'disabled';

export interface IngressRules {
  /** `<cluster.name>/ingress/`. */
  prefix: string;
  maxPayload: number;
  recipient(contextId: number, userId: number): Recipient;
}

export type IngressVerdict = { ok: true; target: IngressTarget; text: string } | { ok: false; reason: IngressDropReason; target?: IngressTarget };

export function checkIngress(topic: string, payload: Buffer, rules: IngressRules): IngressVerdict {
  const target = parseIngressTopic(topic, rules.prefix);
  if ('problem' in target) return { ok: false, reason: target.problem === 'path' ? 'invalid_path' : 'invalid_topic' };
  if (payload.length > rules.maxPayload) return { ok: false, reason: 'too_large', target };
  if (!isUtf8(payload)) return { ok: false, reason: 'invalid_utf8', target };
  const recipient = rules.recipient(target.contextId, target.userId);
  if (recipient !== 'ok') return { ok: false, reason: recipient === 'unknown' ? 'unknown_user' : 'disabled', target };
  return { ok: true, target, text: payload.toString('utf8') };
}
