/**
 * How the admin commands find the node and the token, and what they say when they
 * cannot: run as child processes against a real node, and against a port where none is.
 */
import { expect } from 'chai';
import { ADMIN_TOKEN, startNode, tempDir, type TestNode } from '../support/node.ts';
import { freePort } from '../support/process.ts';
import { against, wsmesh } from './wsmesh-process.ts';

const ADMIN_COMMANDS = [['sockets', 'list'], ['sockets', 'close', '--context', '1', '--user', '3'], ['stats'], ['push', '--context', '1', '--user', '3', '--message', 'hi']];

describe('wsmesh admin commands: node and token (child process)', () => {
  let node: TestNode;
  const dir = tempDir();

  before(async () => {
    node = await startNode(['--node-id', 'conn-node']);
  });

  after(async () => {
    await node?.stop();
    dir.cleanup();
  });

  describe('exit 1: the node refused', () => {
    for (const args of ADMIN_COMMANDS) {
      it(`says the token was refused and what to set, for ${args.slice(0, 2).join(' ')}`, async () => {
        const run = await against(node.url, 'not-the-token')(args);
        expect(run.code).to.equal(1);
        expect(run.stdout).to.equal('');
        expect(run.stderr).to.match(/^wsmesh [a-z ]+: the admin token was refused: set WSMESH_ADMIN_TOKEN to the node's admin.token\n$/);
      });
    }

    it('says when the URL answers without being a wsmesh node', async () => {
      const run = await against(`${node.url}/not-here`)(['stats']);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.contain('No route for GET /not-here/api/admin/stats (HTTP 404 ERR_NOT_FOUND)');
    });
  });

  describe('exit 2: usage', () => {
    it('explains that there is no --token flag', async () => {
      const run = await against(node.url)(['stats', '--token', ADMIN_TOKEN]);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.contain('there is no --token flag, so the token stays out of shell history and ps: set WSMESH_ADMIN_TOKEN or use --token-file F');
    });

    it('says where to put the token when there is none', async () => {
      const run = await against(node.url, null)(['stats']);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.equal("wsmesh stats: no admin token: set WSMESH_ADMIN_TOKEN to the node's admin.token (or use --token-file F)\n");
    });

    it('refuses a --url that is not an http(s) URL', async () => {
      const run = await against(node.url)(['stats', '--url', 'localhost:8009']);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.contain('--url must be the node\'s http:// or https:// base URL');
    });

    it('names an unknown command and prints the command list on stderr', async () => {
      const run = await wsmesh(['socket', 'list']);
      expect(run.code).to.equal(2);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.contain('wsmesh: unknown command "socket"').and.to.contain('  sockets ');
    });

    it('says what is wrong with a token file', async () => {
      const empty = dir.file('empty-token', '\n');
      const missing = await against(node.url, null)(['stats', '--token-file', `${dir.path}/nope`]);
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.contain(`cannot read the token file ${dir.path}/nope: ENOENT`);
      const blank = await against(node.url, null)(['stats', '--token-file', empty]);
      expect(blank.code).to.equal(2);
      expect(blank.stderr).to.contain(`the token file ${empty} is empty`);
    });
  });

  describe('exit 3: no node answers', () => {
    for (const args of ADMIN_COMMANDS) {
      it(`tells to start the node or set the URL, for ${args.slice(0, 2).join(' ')}`, async () => {
        const url = `http://127.0.0.1:${await freePort()}`;
        const run = await against(url)(args);
        expect(run.code).to.equal(3);
        expect(run.stdout).to.equal('');
        expect(run.stderr).to.match(new RegExp(`^wsmesh [a-z ]+: no node answers at ${url}: is it running\\? set --url or WSMESH_URL\\n$`));
      });
    }

    it('uses http://127.0.0.1:8009 without --url and WSMESH_URL', async function () {
      const run = await wsmesh(['stats'], { env: { WSMESH_ADMIN_TOKEN: 'x' } });
      // A node may really run there on a developer's machine: then the token is refused.
      if (run.code === 1) this.skip();
      expect(run.code).to.equal(3);
      expect(run.stderr).to.contain('no node answers at http://127.0.0.1:8009:');
    });
  });

  describe('where the node and token come from', () => {
    it('reads the token from --token-file, a final newline ignored', async () => {
      const file = dir.file('token', `${ADMIN_TOKEN}\n`);
      const run = await wsmesh(['stats', '--token-file', file], { env: { WSMESH_URL: node.url } });
      expect(run.stderr).to.equal('');
      expect(run.code).to.equal(0);
      expect(run.stdout).to.contain('conn-node');
    });

    it('prefers --url to WSMESH_URL, and accepts a trailing slash', async () => {
      const nobody = `http://127.0.0.1:${await freePort()}`;
      const run = await against(nobody)(['stats', '--url', `${node.url}/`]);
      expect(run.code).to.equal(0);
      expect(run.stdout).to.contain('conn-node');
    });
  });

  describe('help', () => {
    it('lists the admin commands in the top-level help', async () => {
      const run = await wsmesh(['--help']);
      expect(run.code).to.equal(0);
      for (const name of ['sockets', 'stats', 'push']) expect(run.stdout).to.match(new RegExp(`^  ${name} +\\S`, 'm'));
    });
  });
});
