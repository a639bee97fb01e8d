/**
 * The node a suite's tests share: started once with alice and bob logged in, every
 * socket a test opened terminated after it (and waited on until the node has
 * forgotten them, so counts start from zero), and stopped after the last test.
 */
import { login, type Login } from '../../support/client.ts';
import { startNode, type TestNode } from '../../support/node.ts';
import { SocketPool, untilLocalSockets } from './http.ts';

export interface SharedNode {
  /** Set in the suite's `before` hook. */
  readonly node: TestNode;
  /** alice@demo (context 1, user 3). */
  readonly alice: Login;
  /** bob@demo (context 1, user 4). */
  readonly bob: Login;
  /** The sockets of the current test. */
  readonly sockets: SocketPool;
}

/** Registers the suite's hooks (call it in a `describe`); `args` are the node's flags. */
export function sharedNode(args: string[] = []): SharedNode {
  const shared: { -readonly [K in keyof SharedNode]: SharedNode[K] } = {
    node: undefined!,
    alice: undefined!,
    bob: undefined!,
    sockets: new SocketPool(() => shared.node.wsUrl),
  };

  before(async () => {
    shared.node = await startNode(args);
    [shared.alice, shared.bob] = await Promise.all([login(shared.node.url), login(shared.node.url, 'bob@demo', 'builder')]);
  });

  afterEach(async () => {
    shared.sockets.terminateAll();
    await untilLocalSockets(shared.node, 0);
  });

  after(async () => {
    await shared.node?.stop();
  });

  return shared;
}
