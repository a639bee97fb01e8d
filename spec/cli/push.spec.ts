/** `wsmesh push` as a child process: the message reaches a real socket of the user. */
import { expect } from 'chai';
import { eventually, login, openSocket, type Login, type TestSocket } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { against } from './wsmesh-process.ts';

describe('wsmesh push (child process)', () => {
  let node: TestNode;
  let alice: Login;
  let cli: ReturnType<typeof against>;
  const sockets: TestSocket[] = [];

  before(async () => {
    node = await startNode();
    cli = against(node.url);
    alice = await login(node.url);
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await eventually(() => node.node.index.size === 0, 'no sockets left');
  });

  after(async () => {
    await node?.stop();
  });

  async function open(path = '/ws/demo', connection?: string): Promise<TestSocket> {
    const socket = await openSocket(node.wsUrl, alice, path, connection ? { connection } : {});
    sockets.push(socket);
    return socket;
  }

  it("writes the message to the user's socket and prints where it went", async () => {
    const socket = await open();
    const run = await cli(['push', '--context', '1', '--user', '3', '--message', 'hello from the cli']);
    expect(run.stderr).to.equal('');
    expect(run.code).to.equal(0);
    expect(run.stdout).to.equal('written to 1 local socket, queued for 0 other nodes\n');
    expect(await socket.nextFrames(1)).to.deep.equal(['hello from the cli']);
  });

  it('reads the message from stdin for --message -, without its final newline', async () => {
    const socket = await open();
    const run = await cli(['push', '--context', '1', '--user', '3', '--message', '-'], { stdin: 'line one\nline two\n' });
    expect(run.code).to.equal(0);
    expect(await socket.nextFrames(1)).to.deep.equal(['line one\nline two']);
  });

  it('sends a JSON value with --json (the socket gets its JSON text), a string without', async () => {
    const socket = await open();
    const asJson = await cli(['push', '--context', '1', '--user', '3', '--json', '--message', '-'], { stdin: '{ "kind": "notice", "n": 1 }\n' });
    expect(asJson.code).to.equal(0);
    const asText = await cli(['push', '--context', '1', '--user', '3', '--message', '{"a": 1}']);
    expect(asText.code).to.equal(0);
    expect(await socket.nextFrames(2)).to.deep.equal(['{"kind":"notice","n":1}', '{"a": 1}']);
  });

  it('reaches only the sockets matching --path and skips the --source connection', async () => {
    const demo = await open('/ws/demo', 'tab-1');
    const chat = await open('/ws/demo/chat', 'tab-2');
    const other = await open('/ws/other', 'tab-3');
    const run = await cli(['push', '--context', '1', '--user', '3', '--message', 'hi', '--path', '/ws/demo/*', '--source', 'tab-1']);
    expect(run.stdout).to.equal('written to 1 local socket, queued for 0 other nodes\n');
    expect(await chat.nextFrames(1)).to.deep.equal(['hi']);
    // A marker to everyone: once it arrives, an earlier "hi" would have arrived too.
    await cli(['push', '--context', '1', '--user', '3', '--message', 'marker']);
    expect(await demo.nextFrames(1)).to.deep.equal(['marker']);
    expect(await other.nextFrames(1)).to.deep.equal(['marker']);
  });

  it('prints "written to 0 local sockets" when the user has none open', async () => {
    const run = await cli(['push', '--context', '1', '--user', '4', '--message', 'nobody home']);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.equal('written to 0 local sockets, queued for 0 other nodes\n');
  });

  it("exits 1 with the node's message for a message the API refuses", async () => {
    const run = await cli(['push', '--context', '1', '--user', '3', '--json', '--message', '42']);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/^wsmesh push: message must be a string, or a JSON object.*\(HTTP 400 ERR_BAD_REQUEST\)\n$/);
  });

  for (const [what, args, stdin, error] of [
    ['no --message', ['--context', '1', '--user', '3'], undefined, '--message is required'],
    ['a --user that is not a number', ['--context', '1', '--user', '3x', '--message', 'hi'], undefined, '--user must be a positive integer: "3x"'],
    ['a --context of 0', ['--context', '0', '--user', '3', '--message', 'hi'], undefined, '--context must be a positive integer: "0"'],
    ['--json with text that is not JSON', ['--context', '1', '--user', '3', '--json', '--message', '{nope'], undefined, '--json: the message is not valid JSON'],
    ['an empty stdin', ['--context', '1', '--user', '3', '--message', '-'], '\n', 'the message on stdin is empty'],
  ] as const) {
    it(`exits 2 with the usage for ${what}`, async () => {
      const run = await cli(['push', ...args], { stdin });
      expect(run.code).to.equal(2);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.contain(`wsmesh push: ${error}`).and.to.contain('Usage: wsmesh push');
    });
  }

  it('prints its usage for --help', async () => {
    const run = await cli(['push', '--help']);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^Usage: wsmesh push /).and.to.contain('--source CONNECTION_ID').and.to.contain('reads it from stdin');
  });
});
