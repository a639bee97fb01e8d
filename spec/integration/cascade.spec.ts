/**
 * `websockets.enabled` through the cascade (user -> context -> context sets -> server),
 * observed where it matters: whether a real handshake is accepted.
 */
import { expect } from 'chai';
import { hashPassword } from '../../src/directory/password.ts';
import { Directory } from '../../src/directory/directory.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { login, openSocket, type TestSocket } from '../support/client.ts';

type Flag = boolean | undefined;

function directoryText(hash: string, scopes: { user?: Flag; context?: Flag; sets?: Flag[] }): string {
  const config = (value: Flag) => (value === undefined ? {} : { 'websockets.enabled': value });
  return JSON.stringify({
    contexts: [{ id: 7, name: 'c7', tags: ['eu', 'gold'], enabled: true, config: config(scopes.context) }],
    contextSets: (scopes.sets ?? []).map((value, i) => ({ name: `set${i}`, withTags: i % 2 ? ['gold'] : ['eu'], config: config(value) })),
    users: [{ id: 9, context: 7, login: 'u', password: hash, enabled: true, config: config(scopes.user) }],
  });
}

describe('websockets.enabled cascade (handshake)', () => {
  let hash: string;
  let node: TestNode | undefined;
  let socket: TestSocket | undefined;
  before(async () => {
    hash = await hashPassword('pw');
  });
  afterEach(async () => {
    socket?.close();
    socket = undefined;
    await node?.stop();
    node = undefined;
  });

  async function outcome(scopes: { user?: Flag; context?: Flag; sets?: Flag[] }, server?: boolean): Promise<number> {
    node = await startNode(server === undefined ? [] : ['--websockets.enabled', String(server)], { directoryText: directoryText(hash, scopes) });
    const auth = await login(node.url, 'u@c7', 'pw');
    try {
      socket = await openSocket(node.wsUrl, auth);
      return 101;
    } catch (error) {
      const { status, body } = error as { status: number; body: { error: string } };
      expect(body.error).to.equal('ERR_DISABLED');
      return status;
    }
  }

  const table: Array<[string, { user?: Flag; context?: Flag; sets?: Flag[] }, boolean | undefined, number]> = [
    ['nothing set anywhere: enabled (undefined means true)', {}, undefined, 101],
    ['server false', {}, false, 403],
    ['server true', {}, true, 101],
    ['context set false over server true', { sets: [false] }, true, 403],
    ['context set true over server false', { sets: [true] }, false, 101],
    ['two matching sets disagree: the later one in the file wins', { sets: [true, false] }, undefined, 403],
    ['two matching sets disagree the other way', { sets: [false, true] }, undefined, 101],
    ['context false over a set true', { context: false, sets: [true] }, true, 403],
    ['context true over a set false and server false', { context: true, sets: [false] }, false, 101],
    ['user false over context true', { user: false, context: true }, true, 403],
    ['user true over context false, set false and server false', { user: true, context: false, sets: [false] }, false, 101],
  ];

  for (const [name, scopes, server, expected] of table) {
    it(`answers ${expected} when ${name}`, async () => {
      expect(await outcome(scopes, server)).to.equal(expected);
    });
  }

  it('drops its per-user cache when the directory reloads', async () => {
    expect(await outcome({ user: true })).to.equal(101);
    socket!.close();
    const auth = await login(node!.url, 'u@c7', 'pw');
    node!.node.applyDirectory(Directory.parse(directoryText(hash, { user: false }), 'reloaded.json'));
    const refused = await openSocket(node!.wsUrl, auth).then(
      () => 101,
      (error: { status: number }) => error.status,
    );
    expect(refused).to.equal(403);
  });
});
