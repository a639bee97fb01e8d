import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runHashPassword } from '../../src/cli/hash-password.ts';
import { MAX_SECRET_LENGTH } from '../../src/cli/read-secret.ts';
import { isPasswordHash, verifyPassword } from '../../src/directory/password.ts';
import { FakeTty, io } from './streams.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the command with `input` piped on stdin (written in `chunks`, then ended). */
async function piped(...chunks: string[]) {
  const stdin = new PassThrough();
  const streams = io(stdin);
  const done = runHashPassword(stdin, streams.stdout, streams.stderr);
  for (const chunk of chunks) stdin.write(chunk);
  stdin.end();
  return { code: await done, stdout: streams.stdout.text, stderr: streams.stderr.text };
}

async function expectHashOf(stdout: string, password: string): Promise<void> {
  expect(stdout.endsWith('\n')).to.equal(true);
  const hash = stdout.trimEnd();
  expect(isPasswordHash(hash)).to.equal(true);
  expect(await verifyPassword(password, hash)).to.equal(true);
}

describe('hash-password', () => {
  describe('#runHashPassword', () => {
    it('prints a hash of the first line on stdout and exits 0', async () => {
      const { code, stdout, stderr } = await piped('wonderland\n');
      expect(code).to.equal(0);
      expect(stderr).to.equal('');
      await expectHashOf(stdout, 'wonderland');
    });

    it('strips a CRLF line ending', async () => {
      await expectHashOf((await piped('wonderland\r\n')).stdout, 'wonderland');
    });

    it('takes the whole input when it has no newline', async () => {
      await expectHashOf((await piped('wonder', 'land')).stdout, 'wonderland');
    });

    it('reads only the first line', async () => {
      await expectHashOf((await piped('first\nsecond\n')).stdout, 'first');
    });

    it('keeps spaces inside and around the password', async () => {
      await expectHashOf((await piped('  two words  \n')).stdout, '  two words  ');
    });

    it('decodes UTF-8 split across chunks', async () => {
      const bytes = Buffer.from('caf\u00e9\n');
      const stdin = new PassThrough();
      const streams = io(stdin);
      const done = runHashPassword(stdin, streams.stdout, streams.stderr);
      stdin.write(bytes.subarray(0, 4));
      stdin.write(bytes.subarray(4));
      stdin.end();
      expect(await done).to.equal(0);
      await expectHashOf(streams.stdout.text, 'caf\u00e9');
    });

    for (const [what, input] of [['empty', ''], ['a lone newline', '\n'], ['a lone CRLF', '\r\n']]) {
      it(`says the password is empty on stderr and exits 2 when stdin is ${what}`, async () => {
        const { code, stdout, stderr } = await piped(input);
        expect(code).to.equal(2);
        expect(stdout).to.equal('');
        expect(stderr).to.contain('the password is empty');
      });
    }

    it('refuses a first line longer than the limit with exit 2', async () => {
      const { code, stdout, stderr } = await piped('x'.repeat(MAX_SECRET_LENGTH + 1));
      expect(code).to.equal(2);
      expect(stdout).to.equal('');
      expect(stderr).to.contain('no newline within');
    });

    it('prints no prompt when stdin is not a terminal', async () => {
      expect((await piped('wonderland\n')).stderr).to.equal('');
    });

    describe('on a terminal', () => {
      it('prompts on stderr, reads twice without echo in raw mode, and restores the mode', async () => {
        const tty = new FakeTty();
        const streams = io(tty);
        const done = runHashPassword(tty, streams.stdout, streams.stderr);
        tty.write('wonder');
        tty.write('lanx\u007fd\r'); // a typo fixed with Backspace, then Enter
        await new Promise(setImmediate);
        tty.write('wonderland\r');
        expect(await done).to.equal(0);
        expect(streams.stderr.text).to.equal('Password: \nRepeat password: \n');
        expect(tty.rawModes).to.deep.equal([true, false, true, false]);
        await expectHashOf(streams.stdout.text, 'wonderland');
      });

      it('prints nothing and exits 1 when the two entries differ', async () => {
        const tty = new FakeTty();
        const streams = io(tty);
        const done = runHashPassword(tty, streams.stdout, streams.stderr);
        tty.write('wonderland\r');
        await new Promise(setImmediate);
        tty.write('wonderlant\r');
        expect(await done).to.equal(1);
        expect(streams.stdout.text).to.equal('');
        expect(streams.stderr.text).to.contain('do not match');
      });

      it('exits 130 on Ctrl-C and restores the mode', async () => {
        const tty = new FakeTty();
        const streams = io(tty);
        const done = runHashPassword(tty, streams.stdout, streams.stderr);
        tty.write('wond\u0003');
        expect(await done).to.equal(130);
        expect(streams.stdout.text).to.equal('');
        expect(tty.rawModes).to.deep.equal([true, false]);
      });

      it('exits 2 on Ctrl-D at an empty prompt', async () => {
        const tty = new FakeTty();
        const streams = io(tty);
        const done = runHashPassword(tty, streams.stdout, streams.stderr);
        tty.write('\u0004');
        expect(await done).to.equal(2);
        expect(streams.stderr.text).to.contain('the password is empty');
      });
    });
  });

  describe('wsmesh hash-password (child process)', () => {
    function run(input: string | undefined, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
      return new Promise((resolve, reject) => {
        const child = spawn('npx', ['tsx', 'src/cli/main.ts', 'hash-password', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
        // Left open after the line: the command must not wait for end of input.
        if (input !== undefined) child.stdin.write(input);
        else child.stdin.end();
        setTimeout(() => child.stdin.end(), 10_000).unref();
      });
    }

    it('prints a hash that verifies, without waiting for stdin to close', async () => {
      const started = Date.now();
      const { code, stdout, stderr } = await run('wonderland\n');
      expect(code, stderr).to.equal(0);
      expect(Date.now() - started).to.be.below(9_000);
      await expectHashOf(stdout, 'wonderland');
    });

    it('exits 2 with a message on stderr when stdin is empty', async () => {
      const { code, stdout, stderr } = await run(undefined);
      expect(code).to.equal(2);
      expect(stdout).to.equal('');
      expect(stderr).to.contain('the password is empty');
    });
  });
});
