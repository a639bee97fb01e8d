/**
 * The table of topic handlers, one per kind of topic (topics.ts), as MQTT.js
 * dispatches packets: adding a kind (the device ingress) is one file and one line.
 */
import type { ParsedTopic } from '../topics.ts';
import type { ClusterParts, Handler } from './context.ts';
import { answer } from './answer.ts';
import { command } from './command.ts';
import { deliver } from './deliver.ts';
import { ended } from './ended.ts';
import { history } from './history.ts';
import { presence } from './presence.ts';
import { pushes } from './pushes.ts';
import { question } from './question.ts';
import { receipt } from './receipt.ts';
import { registry } from './registry.ts';
import { session } from './session.ts';
import { sync } from './sync.ts';

type Table = { [K in ParsedTopic['kind']]: Handler<K> };

export const HANDLERS: Table = { presence, registry, session, sync, ended, deliver, pushes, command, history, question, answer, receipt };

export function dispatch(topic: ParsedTopic, body: string | undefined, parts: ClusterParts, retained = false): void {
  (HANDLERS[topic.kind] as Handler<typeof topic.kind>)(topic as never, body, parts, retained);
}
