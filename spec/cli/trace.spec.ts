/** `wsmesh trace` as a child process, against a real node with a real socket. */
import { expect } from 'chai';
import { login, openSocket, push, type TestSocket } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { formatTrace } from '../../src/cli/trace.ts';
import { against } from './wsmesh-process.ts';

describe('wsmesh trace (child process)', function () {
  this.timeout(30_000);
  let node: TestNode;
  let cli: ReturnType<typeof against>;
  const sockets: TestSocket[] = [];

  before(async () => {
    node = await startNode();
    cli = against(node.url);
    const alice = await login(node.url);
    sockets.push(await openSocket(node.wsUrl, alice, '/ws/a', { connection: 'tab-a' }), await openSocket(node.wsUrl, alice, '/ws/b', { connection: 'tab-b' }));
    expect((await push(node.url, { contextId: 1, userId: 3, id: 'cli-1', message: 'hello', pathFilter: '/ws/a' })).status).to.equal(202);
  });

  after(async () => {
    for (const socket of sockets) socket.close();
    await node?.stop();
  });

  it('prints where the message went and why a socket did not get it', async () => {
    const run = await cli(['trace', 'cli-1']);
    expect(run.stderr).to.equal('');
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^message {2,}cli-1\n/);
    expect(run.stdout).to.match(/\naccepted {2,}on test-node at \d\d:\d\d:\d\d\.\d{3}: user 3 in context 1, path filter \/ws\/a\n/);
    expect(run.stdout).to.match(/\nwritten {2,}test-node:tab-a at /);
    expect(run.stdout).to.contain('\nnot delivered:\nNODE       CONNECTION  REASON       AT\ntest-node  tab-b       path-filter  ');
    expect(run.stdout).to.not.contain('hello');
  });

  it('prints the JSON of the API with --json, flags before or after the id', async () => {
    for (const args of [['trace', '--json', 'cli-1'], ['trace', 'cli-1', '--json']]) {
      const run = await cli(args);
      expect(run.code, args.join(' ')).to.equal(0);
      const body = JSON.parse(run.stdout);
      expect(body.id).to.equal('cli-1');
      expect(body.written.map((w: { connectionId: string }) => w.connectionId)).to.deep.equal(['tab-a']);
      expect(body.notDelivered.map((s: { connectionId: string; reason: string }) => [s.connectionId, s.reason])).to.deep.equal([['tab-b', 'path-filter']]);
    }
  });

  it("exits 1 with the node's message for an id no node holds", async () => {
    const run = await cli(['trace', 'never-pushed']);
    expect(run.code).to.equal(1);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.match(/^wsmesh trace: No node holds a trace of never-pushed .*\(HTTP 404 ERR_MESSAGE_UNKNOWN\)\n$/);
  });

  it('exits 1 for an id the node refuses as malformed, and for a wrong token', async () => {
    const bad = await cli(['trace', 'not an id']);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain('(HTTP 400 ERR_BAD_REQUEST)');
    const refused = await against(node.url, 'wrong')(['trace', 'cli-1']);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain('the admin token was refused');
  });

  for (const [what, args, error] of [
    ['no message id', ['trace'], 'a message id is required'],
    ['two message ids', ['trace', 'a', 'b'], 'one message id at a time'],
    ['an unknown flag', ['trace', 'a', '--nope'], 'unknown flag --nope'],
  ] as const) {
    it(`exits 2 with the usage for ${what}`, async () => {
      const run = await cli([...args]);
      expect(run.code).to.equal(2);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.contain(`wsmesh trace: ${error}`).and.to.contain('Usage: wsmesh trace <messageId>');
    });
  }

  it('prints its usage for --help, naming every reason', async () => {
    const run = await cli(['trace', '--help']);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^Usage: wsmesh trace <messageId>/);
    for (const reason of ['path-filter', 'source-token', 'disabled', 'slow-consumer', 'no-socket', 'duplicate', 'outbox-limit', 'stale']) expect(run.stdout).to.contain(reason);
  });

  describe('formatTrace', () => {
    it('names the coalescing, the publish, the receipt and the nodes that did not answer', () => {
      const text = formatTrace({
        id: 'm',
        kept: true,
        accepted: [{ node: 'a', at: 0, contextId: 1, userId: 3, pathFilter: null, sourceToken: 'src' }],
        refused: [],
        queued: [{ node: 'a', at: 5 }],
        coalesced: [{ node: 'a', at: 300, publish: 'a:7', with: 2 }],
        publishes: [{ node: 'a', publish: 'a:7', topic: 'x/internal/deliver/1/3', at: 300, messages: 3, outcome: 'sent' }],
        received: [{ node: 'b', at: 310, from: 'a', publish: 'a:7', outcome: 'delivered' }],
        written: [{ node: 'b', connectionId: 'b1', at: 311 }],
        notDelivered: [{ node: 'c', connectionId: null, at: 0, reason: 'outbox-limit' }],
        nodes: { holding: ['a', 'b'], answered: ['a', 'b'], unanswered: ['c'], failed: [] },
      });
      expect(text).to.equal(
        [
          'message    m (kept: pushed with "trace": true)',
          'accepted   on a at 00:00:00.000: user 3 in context 1, every path, skipping src',
          'queued     in the coalescing buffer of a at 00:00:00.005',
          'coalesced  on a: with 2 other messages, in publish a:7',
          'published  a:7 at 00:00:00.300 to x/internal/deliver/1/3 (3 messages): sent',
          'received   on b at 00:00:00.310 from a:7: delivered',
          'written    b:b1 at 00:00:00.311',
          'nodes      a, b answered; holding it: a, b',
          'no answer  c: their part is missing',
          '',
          'not delivered:',
          'NODE  CONNECTION  REASON        AT',
          'c     -           outbox-limit  00:00:00.000',
          '',
        ].join('\n'),
      );
    });
  });
});
