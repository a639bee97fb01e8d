/** `wsmesh stats` as a child process, against a real node whose counters the test moves. */
import { expect } from 'chai';
import { eventually, login, openSocket, push, type TestSocket } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { against } from './wsmesh-process.ts';

describe('wsmesh stats (child process)', () => {
  let node: TestNode;
  let cli: ReturnType<typeof against>;
  let socket: TestSocket;

  before(async () => {
    node = await startNode(['--node-id', 'stats-node', '--route', 'R7']);
    cli = against(node.url);
    const alice = await login(node.url);
    socket = await openSocket(node.wsUrl, alice, '/ws/demo');
    // One refused handshake, two delivered messages, one received.
    await openSocket(node.wsUrl, { session: 'f'.repeat(32), cookie: alice.cookie }).then(
      () => expect.fail('a made-up session was accepted'),
      (err: { status: number }) => expect(err.status).to.equal(403),
    );
    await push(node.url, { contextId: 1, userId: 3, message: 'one' });
    await push(node.url, { contextId: 1, userId: 3, message: 'two' });
    await socket.nextFrames(2);
    socket.ws.send('from the client');
    await eventually(() => node.node.stats.messagesReceived === 1, 'the frame to be counted');
  });

  after(async () => {
    socket?.close();
    await node?.stop();
  });

  it('prints a readable summary of the counters', async () => {
    const run = await cli(['stats']);
    expect(run.stderr).to.equal('');
    expect(run.code).to.equal(0);
    const fields = Object.fromEntries(run.stdout.trimEnd().split('\n').map((line) => line.split(/\s{2,}/) as [string, string]));
    expect(fields).to.deep.equal({
      node: 'stats-node (route R7)',
      sockets: '1 on this node, 1 in the cluster',
      nodes: '1',
      buffered: '0 messages',
      sessions: '1',
      handshakes: '1 accepted, 1 rejected: ERR_SESSION_UNKNOWN 1',
      messages: '2 delivered, 1 received, 0 dropped',
      'slow consumers': '0 closed',
      remote: '0 publishes to other nodes, 0 messages sent, 0 received',
    });
  });

  it("prints the API's JSON with --json", async () => {
    const run = await cli(['stats', '--json']);
    expect(run.code).to.equal(0);
    const body = JSON.parse(run.stdout);
    expect(body.node).to.deep.equal({ id: 'stats-node', route: 'R7' });
    expect(body.sockets).to.deep.equal({ local: 1, cluster: 1 });
    expect(body.counters.handshakes).to.deep.equal({ accepted: 1, rejected: { ERR_SESSION_UNKNOWN: 1 } });
    expect(body.counters.messages).to.deep.include({ delivered: 2, received: 1 });
  });

  it('prints its usage for --help', async () => {
    const run = await cli(['stats', '--help']);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^Usage: wsmesh stats /).and.to.contain('--json').and.to.contain('Exit codes');
  });

  it('refuses an argument it does not know (exit 2, usage on stderr)', async () => {
    const run = await cli(['stats', '--all']);
    expect(run.code).to.equal(2);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.contain('wsmesh stats: unknown flag --all').and.to.contain('Usage: wsmesh stats');
  });
});
