import { expect } from 'chai';
import { resolveTarget, synopsis } from '../../src/cli/admin-command.ts';
import { CliError } from '../../src/cli/cli-error.ts';
import { parseFlags } from '../../src/cli/flags.ts';
import { tempDir } from '../support/node.ts';

const SPEC = { '--url': 'value', '--token-file': 'value' } as const;

function target(args: string[], env: NodeJS.ProcessEnv) {
  return resolveTarget(parseFlags(args, SPEC), env);
}

function failure(run: () => unknown): CliError {
  try {
    run();
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error('no failure');
}

describe('cli admin target', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  describe('#resolveTarget', () => {
    it('defaults to http://127.0.0.1:8009 and the WSMESH_ADMIN_TOKEN token', () => {
      expect(target([], { WSMESH_ADMIN_TOKEN: 't0k' })).to.deep.equal({ url: 'http://127.0.0.1:8009', token: 't0k' });
    });

    it('takes WSMESH_URL, and --url over it, without a trailing slash', () => {
      expect(target([], { WSMESH_URL: 'http://node-1:9000/', WSMESH_ADMIN_TOKEN: 't' }).url).to.equal('http://node-1:9000');
      expect(target(['--url', 'https://lb.example/wsmesh/'], { WSMESH_URL: 'http://node-1:9000', WSMESH_ADMIN_TOKEN: 't' }).url).to.equal('https://lb.example/wsmesh');
    });

    for (const url of ['localhost:8009', 'ftp://host', 'http://host/?q=1', 'not a url']) {
      it(`refuses the URL ${JSON.stringify(url)} (exit 2)`, () => {
        const error = failure(() => target(['--url', url], { WSMESH_ADMIN_TOKEN: 't' }));
        expect(error.exitCode).to.equal(2);
        expect(error.message).to.contain("--url must be the node's http:// or https:// base URL");
      });
    }

    it('names WSMESH_URL when the bad URL came from there', () => {
      expect(failure(() => target([], { WSMESH_URL: 'node:1', WSMESH_ADMIN_TOKEN: 't' })).message).to.match(/^WSMESH_URL must be/);
    });

    it('reads --token-file over WSMESH_ADMIN_TOKEN, trimmed', () => {
      const file = dir.file('token', '  from-file\r\n');
      expect(target(['--token-file', file], { WSMESH_ADMIN_TOKEN: 'from-env' }).token).to.equal('from-file');
    });

    it('refuses a token file with more than the token in it', () => {
      const file = dir.file('two-words', 'token = abc\n');
      expect(failure(() => target(['--token-file', file], {})).message).to.contain('holds more than one word');
    });

    for (const env of [{}, { WSMESH_ADMIN_TOKEN: '' }, { WSMESH_ADMIN_TOKEN: '  ' }]) {
      it(`says where the token goes when there is none: ${JSON.stringify(env)} (exit 2, no usage)`, () => {
        const error = failure(() => target([], env));
        expect(error.exitCode).to.equal(2);
        expect(error.showUsage).to.equal(false);
        expect(error.message).to.equal("no admin token: set WSMESH_ADMIN_TOKEN to the node's admin.token (or use --token-file F)");
      });
    }
  });

  describe('#synopsis', () => {
    it('keeps the Usage lines up to the first blank line', () => {
      expect(synopsis('Usage: a\n       b\n\nMore.\n\nEven more.')).to.equal('Usage: a\n       b\n');
    });
  });
});
