import { expect } from 'chai';
import type { Accounts } from '../../src/mqtt/accounts.ts';
import { checkClearPasswords, ClearPasswordsError, parseClearPasswords } from '../../src/mqtt/clear-passwords.ts';
import { CLEAR, parsedAccounts } from './fixtures.ts';

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (err) {
    expect(err).to.be.instanceOf(ClearPasswordsError);
    return (err as ClearPasswordsError).problems;
  }
  throw new Error('expected a ClearPasswordsError');
}

async function asyncProblemsOf(run: () => Promise<unknown>): Promise<readonly string[]> {
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).to.be.instanceOf(ClearPasswordsError);
  return (err as ClearPasswordsError).problems;
}

const fileOf = (entries: Record<string, string>) => Object.entries(entries).map(([id, pw]) => `${id}:${pw}`).join('\n') + '\n';

describe('clear-passwords', () => {
  describe('#parseClearPasswords', () => {
    it('reads id:password lines, skipping blank lines and # comments', () => {
      const parsed = parseClearPasswords('# broker passwords\n\nnode-1:one\n  \nthermo-17:two\n', 'pw');
      expect([...parsed]).to.deep.equal([
        ['node-1', { password: 'one', line: 3 }],
        ['thermo-17', { password: 'two', line: 5 }],
      ]);
    });

    it("keeps everything after the first ':' as the password, spaces and colons included", () => {
      expect(parseClearPasswords('a: two words :x: \n', 'pw').get('a')?.password).to.equal(' two words :x: ');
    });

    it('strips CRLF line endings and a byte order mark', () => {
      expect([...parseClearPasswords('\ufeffa:one\r\nb:two\r\n', 'pw')].map(([id, { password }]) => [id, password])).to.deep.equal([
        ['a', 'one'],
        ['b', 'two'],
      ]);
    });

    it('lists every malformed, empty and repeated line, naming the line and never its text', () => {
      const text = 'a:secret-1\nno colon secret-2\n:secret-3\nb:\na:secret-4\n';
      const problems = problemsOf(() => parseClearPasswords(text, 'pw.txt'));
      expect(problems).to.deep.equal([
        'pw.txt: line 2: not "id:password"; write one account a line, its id, a colon, then its password',
        'pw.txt: line 3: not "id:password"; write one account a line, its id, a colon, then its password',
        'pw.txt: line 4: the password of "b" is empty',
        'pw.txt: line 5: a second line for "a" (the first is line 1); keep one',
      ]);
      expect(problems.join('\n')).not.to.match(/secret/);
    });
  });

  describe('#checkClearPasswords', () => {
    let accounts: Accounts;

    before(async () => {
      accounts = await parsedAccounts('accounts.json');
    });

    it("returns every account's password once each matches its scrypt hash", async () => {
      const passwords = await checkClearPasswords(accounts, parseClearPasswords(fileOf(CLEAR), 'pw'), 'pw');
      expect(Object.fromEntries(passwords)).to.deep.equal(CLEAR);
    });

    it('names every account without a line, every line without an account, and every mismatch, and no password', async () => {
      const { ['gateway-2']: _, ...rest } = CLEAR;
      const text = fileOf({ ...rest, 'thermo-17': 'not-the-password', stranger: 'stranger-password' });
      const problems = await asyncProblemsOf(() => checkClearPasswords(accounts, parseClearPasswords(text, 'pw.txt'), 'pw.txt'));
      expect(problems).to.deep.equal([
        'pw.txt: line 4: there is no account "stranger" in accounts.json; remove the line, or add the account',
        'pw.txt: line 2: the password of "thermo-17" does not match its hash in accounts.json; write the right password here, or store this one\'s hash ("wsmesh hash-password") in the accounts file',
        'pw.txt: the account "gateway-2" has no line; add "gateway-2:<its password>", the password whose hash is in accounts.json',
      ]);
      for (const password of [...Object.values(CLEAR), 'not-the-password', 'stranger-password']) expect(problems.join('\n')).not.to.contain(password);
    });
  });
});
