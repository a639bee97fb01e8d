/** `wsmesh sockets list|close` as a child process, against a real node with real sockets. */
import { expect } from 'chai';
import { eventually, login, openSocket, type Login, type TestSocket } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { against, type CliRun } from './wsmesh-process.ts';

describe('wsmesh sockets (child process)', () => {
  let node: TestNode;
  let alice: Login;
  let bob: Login;
  let cli: ReturnType<typeof against>;
  const sockets: TestSocket[] = [];

  before(async () => {
    node = await startNode(['--node-id', 'cli-node']);
    cli = against(node.url);
    [alice, bob] = await Promise.all([login(node.url), login(node.url, 'bob@demo', 'builder')]);
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await eventually(() => node.node.index.size === 0, 'no sockets left');
  });

  after(async () => {
    await node?.stop();
  });

  async function open(auth: Login, path: string, connection: string): Promise<TestSocket> {
    const socket = await openSocket(node.wsUrl, auth, path, { connection });
    sockets.push(socket);
    return socket;
  }

  function expectOk(run: CliRun): void {
    expect(run.stderr, 'stderr').to.equal('');
    expect(run.code, 'exit code').to.equal(0);
  }

  describe('list', () => {
    it("prints a table of alice's sockets, one row each, with a header and a count", async () => {
      await open(alice, '/ws/demo', 'tab-1');
      await open(alice, '/ws/demo/chat', 'tab-2');
      const run = await cli(['sockets', 'list', '--context', '1', '--user', '3']);
      expectOk(run);
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines[0].split(/\s{2,}/)).to.deep.equal(['CONTEXT', 'USER', 'PATH', 'CONNECTION', 'NODE', 'REMOTE ADDRESS', 'CONNECTED']);
      const rows = lines.slice(1, 3).map((line) => line.trim().split(/\s{2,}/));
      expect(rows.map((r) => r.slice(0, 6))).to.deep.equal([
        ['1', '3', '/ws/demo', 'tab-1', 'cli-node', '127.0.0.1'],
        ['1', '3', '/ws/demo/chat', 'tab-2', 'cli-node', '127.0.0.1'],
      ]);
      for (const row of rows) expect(row[6]).to.match(/^(just now|\d+s ago)$/);
      expect(lines.slice(3)).to.deep.equal(['', '2 sockets on this node']);
    });

    it('lists every user without --user and --context, and only the named one with them', async () => {
      await open(alice, '/ws/demo', 'a-1');
      await open(bob, '/ws/demo', 'b-1');
      const all = await cli(['sockets', 'list']);
      expectOk(all);
      expect(all.stdout).to.contain('a-1').and.to.contain('b-1').and.to.contain('2 sockets on this node');
      const onlyBob = await cli(['sockets', 'list', '--user', String(bob.userId)]);
      expectOk(onlyBob);
      expect(onlyBob.stdout).to.contain('b-1').and.not.to.contain('a-1');
    });

    it("prints the API's JSON rows with --json", async () => {
      const before = Date.now();
      await open(alice, '/ws/demo', 'tab-1');
      const run = await cli(['sockets', 'list', '--user', '3', '--context', '1', '--json']);
      expectOk(run);
      const rows = JSON.parse(run.stdout);
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ contextId: 1, userId: 3, path: '/ws/demo', connectionId: 'tab-1', node: 'cli-node', remoteAddress: '127.0.0.1' });
      expect(rows[0].connectedAt).to.be.within(before - 1000, Date.now());
    });

    it('says so when there is no socket', async () => {
      const run = await cli(['sockets', 'list']);
      expectOk(run);
      expect(run.stdout).to.equal('no sockets on this node\n');
      expect((await cli(['sockets', 'list', '--user', '3', '--json'])).stdout).to.equal('[]\n');
    });

    it('refuses an id that is not a positive integer before asking the node (exit 2, usage)', async () => {
      const run = await cli(['sockets', 'list', '--user', 'alice']);
      expect(run.code).to.equal(2);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.contain('wsmesh sockets list: --user must be a positive integer: "alice"');
      expect(run.stderr).to.contain('Usage: wsmesh sockets list');
    });
  });

  describe('close', () => {
    it("closes alice's sockets: the clients see 4403 and the count is printed", async () => {
      const one = await open(alice, '/ws/demo', 'tab-1');
      const two = await open(alice, '/ws/demo/chat', 'tab-2');
      const bobs = await open(bob, '/ws/demo', 'b-1');
      const run = await cli(['sockets', 'close', '--context', '1', '--user', '3']);
      expectOk(run);
      expect(run.stdout).to.equal('closed 2 sockets of user 3 in context 1\n');
      expect(await one.closedWith()).to.equal(4403);
      expect(await two.closedWith()).to.equal(4403);
      expect(bobs.closeCode).to.equal(undefined);
    });

    it('closes only the sockets matching --path', async () => {
      const demo = await open(alice, '/ws/demo', 'tab-1');
      const chat = await open(alice, '/ws/demo/chat', 'tab-2');
      const run = await cli(['sockets', 'close', '--context', '1', '--user', '3', '--path', '/ws/demo/chat']);
      expectOk(run);
      expect(run.stdout).to.equal('closed 1 socket of user 3 in context 1 matching /ws/demo/chat\n');
      expect(await chat.closedWith()).to.equal(4403);
      expect(demo.closeCode).to.equal(undefined);
    });

    it("prints the node's message and exits 1 for a path filter it refuses", async () => {
      const run = await cli(['sockets', 'close', '--context', '1', '--user', '3', '--path', 'ws/demo']);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.match(/^wsmesh sockets close: Invalid path filter: "ws\/demo".*\(HTTP 400 ERR_INVALID_PATH_FILTER\)\n$/);
    });

    it('requires --context and --user (exit 2)', async () => {
      const run = await cli(['sockets', 'close', '--user', '3']);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.contain('--context is required').and.to.contain('Usage: wsmesh sockets close');
    });
  });

  describe('usage', () => {
    it('prints the usage of each subcommand for --help, and of the group', async () => {
      const [list, close, group, viaHelp] = await Promise.all([
        cli(['sockets', 'list', '--help']),
        cli(['sockets', 'close', '--help']),
        cli(['sockets', '--help']),
        cli(['help', 'sockets']),
      ]);
      for (const run of [list, close, group, viaHelp]) expectOk(run);
      expect(list.stdout).to.match(/^Usage: wsmesh sockets list /).and.to.contain('--cluster').and.to.contain('WSMESH_ADMIN_TOKEN');
      expect(close.stdout).to.match(/^Usage: wsmesh sockets close /).and.to.contain('4403');
      expect(group.stdout).to.match(/^Usage: wsmesh sockets list/).and.to.contain('wsmesh sockets close');
      expect(viaHelp.stdout).to.equal(group.stdout);
    });

    for (const args of [['sockets'], ['sockets', 'purge'], ['sockets', 'list', '--verbose'], ['sockets', 'list', 'extra']]) {
      it(`prints the usage on stderr and exits 2 for: wsmesh ${args.join(' ')}`, async () => {
        const run = await cli(args);
        expect(run.code).to.equal(2);
        expect(run.stdout).to.equal('');
        expect(run.stderr).to.contain('Usage: wsmesh sockets');
      });
    }
  });
});
