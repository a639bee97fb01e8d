/**
 * One real node for a fuzz target, started as the integration specs start it
 * (startNode), with a logged-in user, and the checks every target runs on it.
 */
import { login, type Login } from '../../support/client.ts';
import { startNode, type TestNode } from '../../support/node.ts';
import { healthy, socketsSettled } from './oracle.ts';

export interface FuzzNode {
  test: TestNode;
  port: number;
  auth: Login;
  /** A fresh connection id for each socket: ids are not reused while a closed one is still being cleaned up. */
  connectionId(): string;
  alive(): Promise<boolean>;
  settle(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Many sockets per user: each fuzz input opens one, and the limit is not what is fuzzed. */
const FLAGS = ['--websockets.maxSocketsPerUser', '100000'];

export async function startFuzzNode(flags: string[] = [], logs?: string[]): Promise<FuzzNode> {
  const test = await startNode([...FLAGS, ...flags], { logs });
  const auth = await login(test.url);
  let next = 0;
  return {
    test,
    port: Number(new URL(test.url).port),
    auth,
    connectionId: () => `fuzz-${++next}`,
    alive: () => healthy(test.url),
    settle: () => socketsSettled(test.url),
    stop: () => test.stop(),
  };
}
