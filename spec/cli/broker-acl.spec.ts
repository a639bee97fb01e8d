import { expect } from 'chai';
import { chownSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROKER_ACL_USAGE, runBrokerAcl } from '../../src/cli/broker-acl.ts';
import { hashPassword } from '../../src/directory/password.ts';
import { parseAccounts } from '../../src/mqtt/accounts.ts';
import { mosquittoAcl } from '../../src/mqtt/mosquitto-acl.ts';
import { verifyMosquittoPassword } from '../../src/mqtt/mosquitto-password.ts';
import { verifyNatsPassword } from '../../src/mqtt/nats-password.ts';
import { accountsFileText, CLEAR } from '../mqtt/fixtures.ts';
import { io } from './streams.ts';
import { runCli } from '../../src/cli/run.ts';

const PASSWORDS_TEXT = Object.entries(CLEAR).map(([id, password]) => `${id}:${password}`).join('\n') + '\n';

describe('wsmesh broker acl', () => {
  let dir: string;
  let accountsFile: string;
  let passwordsFile: string;
  let out: string;
  let accountsText: string;

  before(async () => {
    accountsText = await accountsFileText();
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wsmesh-broker-acl-'));
    accountsFile = join(dir, 'accounts.json');
    passwordsFile = join(dir, 'passwords');
    out = join(dir, 'out');
    mkdirSync(out);
    writeFileSync(accountsFile, accountsText);
    writeFileSync(passwordsFile, PASSWORDS_TEXT, { mode: 0o600 });
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function run(...args: string[]) {
    const streams = io();
    const code = await runBrokerAcl(args, streams);
    const result = { code, stdout: streams.stdout.text, stderr: streams.stderr.text };
    for (const password of Object.values(CLEAR)) expect(result.stdout + result.stderr, 'printed a password').not.to.contain(password);
    return result;
  }

  const mosquittoArgs = () => ['--accounts', accountsFile, '--passwords', passwordsFile, '--mosquitto', out];
  const mode = (file: string) => statSync(file).mode & 0o777;

  it('is reached as `wsmesh broker acl`, and `wsmesh broker` alone still runs the broker', async () => {
    const streams = io();
    expect(await runCli(['broker', 'acl', '--help'], streams)).to.equal(0);
    expect(streams.stdout.text).to.contain('Usage: wsmesh broker acl');
    const bad = io();
    expect(await runCli(['broker', '--no-such-flag'], bad)).to.equal(2);
    expect(bad.stderr.text).to.contain('Usage: wsmesh broker [--host H]');
  });

  describe('--mosquitto DIR', () => {
    it('writes wsmesh.passwd (0600) and wsmesh.acl, says where, and exits 0', async () => {
      const { code, stdout, stderr } = await run(...mosquittoArgs());
      expect(stderr).to.equal('');
      expect(code).to.equal(0);
      expect(readdirSync(out).sort()).to.deep.equal(['wsmesh.acl', 'wsmesh.passwd']);
      expect(mode(join(out, 'wsmesh.passwd'))).to.equal(0o600);
      expect(mode(join(out, 'wsmesh.acl'))).to.equal(0o644);
      expect(stdout).to.equal(`wrote ${join(out, 'wsmesh.passwd')} and ${join(out, 'wsmesh.acl')} (4 accounts, the cluster "wsmesh"): make them readable by mosquitto (config/mosquitto/README.md), then reload it (systemctl reload mosquitto)\n`);
    });

    it("hashes every account's password for mosquitto, and writes the ACL of the accounts", async () => {
      await run(...mosquittoArgs());
      const lines = readFileSync(join(out, 'wsmesh.passwd'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
      expect(lines).to.have.length(4);
      for (const line of lines) {
        const id = line.slice(0, line.indexOf(':'));
        expect(verifyMosquittoPassword(CLEAR[id], line.slice(id.length + 1)), id).to.equal(true);
      }
      expect(readFileSync(join(out, 'wsmesh.acl'), 'utf8')).to.equal(mosquittoAcl(parseAccounts(accountsText, accountsFile), 'wsmesh'));
    });

    it('writes the topics under --cluster-name', async () => {
      expect((await run(...mosquittoArgs(), '--cluster-name', 'blue')).code).to.equal(0);
      expect(readFileSync(join(out, 'wsmesh.acl'), 'utf8')).to.contain('topic write blue/ingress/1/3/#').and.not.to.contain(' wsmesh/');
    });

    it('replaces existing files whole, keeping their owner, group and mode', async function () {
      writeFileSync(join(out, 'wsmesh.passwd'), 'old\n', { mode: 0o640 });
      chmodSync(join(out, 'wsmesh.passwd'), 0o640);
      const root = process.getuid?.() === 0;
      if (root) chownSync(join(out, 'wsmesh.passwd'), 1, 1);
      expect((await run(...mosquittoArgs())).code).to.equal(0);
      const stat = statSync(join(out, 'wsmesh.passwd'));
      expect(stat.mode & 0o777).to.equal(0o640);
      if (root) expect([stat.uid, stat.gid]).to.deep.equal([1, 1]);
      expect(readFileSync(join(out, 'wsmesh.passwd'), 'utf8')).to.match(/^# Mosquitto password file/);
      expect(readdirSync(out).sort(), 'nothing left aside').to.deep.equal(['wsmesh.acl', 'wsmesh.passwd']);
    });

    it('takes away access for others from a password file that had it', async () => {
      writeFileSync(join(out, 'wsmesh.passwd'), 'old\n');
      chmodSync(join(out, 'wsmesh.passwd'), 0o644);
      expect((await run(...mosquittoArgs())).code).to.equal(0);
      expect(mode(join(out, 'wsmesh.passwd'))).to.equal(0o640);
      expect(mode(join(out, 'wsmesh.acl'))).to.equal(0o644);
    });

    it('refuses a DIR that is not a directory, with exit 2', async () => {
      const { code, stderr } = await run('--accounts', accountsFile, '--passwords', passwordsFile, '--mosquitto', join(dir, 'missing'));
      expect(code).to.equal(2);
      expect(stderr).to.contain(`wsmesh broker acl: --mosquitto "${join(dir, 'missing')}" is not a directory; create it`);
    });
  });

  describe('--nats FILE', () => {
    it("writes the accounts block (0600) with bcrypt hashes of the accounts' passwords", async function () {
      this.timeout(20_000);
      const file = join(out, 'accounts.conf');
      const { code, stdout, stderr } = await run('--accounts', accountsFile, '--passwords', passwordsFile, '--nats', file);
      expect(stderr).to.equal('');
      expect(code).to.equal(0);
      expect(stdout).to.equal(`wrote ${file} (4 accounts, the cluster "wsmesh"): include it from every server's config, copy it to every server, then reload each (SIGHUP)\n`);
      expect(mode(file)).to.equal(0o600);
      const text = readFileSync(file, 'utf8');
      expect(text).to.contain('accounts {\n  WSMESH: {');
      for (const [id, password] of Object.entries(CLEAR)) {
        const hash = new RegExp(`user: "${id}"\\n {8}password: "([^"]+)"`).exec(text)?.[1];
        expect(hash, id).to.match(/^\$2b\$11\$/);
        expect(await verifyNatsPassword(password, hash!), id).to.equal(true);
        expect(text).not.to.contain(password);
      }
    });

    it('refuses a FILE that is a directory, or whose directory does not exist', async () => {
      const intoDir = await run('--accounts', accountsFile, '--passwords', passwordsFile, '--nats', out);
      expect(intoDir.code).to.equal(2);
      expect(intoDir.stderr).to.contain(`is a directory; name the file to write, e.g. ${join(out, 'accounts.conf')}`);
      const nowhere = await run('--accounts', accountsFile, '--passwords', passwordsFile, '--nats', join(dir, 'no', 'accounts.conf'));
      expect(nowhere.code).to.equal(2);
      expect(nowhere.stderr).to.contain(`the directory ${join(dir, 'no')} does not exist; create it first`);
    });

    it('refuses, naming the account, a password longer than bcrypt reads', async () => {
      const long = 'x'.repeat(73);
      writeFileSync(accountsFile, JSON.stringify({ accounts: [{ id: 'node-1', kind: 'node', password: await hashPassword(long) }] }));
      writeFileSync(passwordsFile, `node-1:${long}\n`);
      const { code, stderr } = await run('--accounts', accountsFile, '--passwords', passwordsFile, '--nats', join(out, 'a.conf'));
      expect(code).to.equal(2);
      expect(stderr).to.contain('the password of the account "node-1": the password is 73 bytes long; bcrypt (NATS) reads only the first 72');
      expect(stderr).not.to.contain(long);
      expect(readdirSync(out)).to.deep.equal([]);
    });

    it('exits 1 when the file cannot be written', async () => {
      const { code, stderr } = await run('--accounts', accountsFile, '--passwords', passwordsFile, '--nats', '/proc/wsmesh-accounts.conf');
      expect(code).to.equal(1);
      expect(stderr).to.match(/^wsmesh broker acl: could not write \/proc\/wsmesh-accounts\.conf: .*; check that this user may write there\n$/);
    });
  });

  describe('wrong input', () => {
    it('names the account whose password does not match, writes nothing, and exits 2', async () => {
      writeFileSync(passwordsFile, PASSWORDS_TEXT.replace('thermo-17:thermo-17-password', 'thermo-17:guess'));
      const { code, stdout, stderr } = await run(...mosquittoArgs());
      expect(code).to.equal(2);
      expect(stdout).to.equal('');
      expect(stderr).to.equal(
        `wsmesh broker acl: ${passwordsFile}: line 2: the password of "thermo-17" does not match its hash in ${accountsFile}; write the right password here, or store this one's hash ("wsmesh hash-password") in the accounts file\n`,
      );
      expect(stderr).not.to.contain('guess');
      expect(readdirSync(out)).to.deep.equal([]);
    });

    it('lists every problem of the passwords file at once', async () => {
      writeFileSync(passwordsFile, 'node-1:node-1-password\nmail-backend:wrong\n');
      const { code, stderr } = await run(...mosquittoArgs());
      expect(code).to.equal(2);
      expect(stderr.split('\n')[0]).to.equal('wsmesh broker acl: 3 problems with the passwords:');
      expect(stderr).to.contain('the account "thermo-17" has no line; add "thermo-17:<its password>"').and.to.contain('the account "gateway-2" has no line').and.to.contain('the password of "mail-backend" does not match');
    });

    it('says which file cannot be read', async () => {
      const noAccounts = await run('--accounts', join(dir, 'nope.json'), '--passwords', passwordsFile, '--mosquitto', out);
      expect(noAccounts.code).to.equal(2);
      expect(noAccounts.stderr).to.equal(`wsmesh broker acl: --accounts ${join(dir, 'nope.json')} cannot be read (ENOENT); give the broker accounts file\n`);
      const noPasswords = await run('--accounts', accountsFile, '--passwords', join(dir, 'nope'), '--mosquitto', out);
      expect(noPasswords.code).to.equal(2);
      expect(noPasswords.stderr).to.contain(`--passwords ${join(dir, 'nope')} cannot be read (ENOENT)`);
    });

    it("passes on the accounts file's own error", async () => {
      writeFileSync(accountsFile, '{"accounts": [{"id": "x", "kind": "robot"}]}');
      const { code, stderr } = await run(...mosquittoArgs());
      expect(code).to.equal(2);
      expect(stderr).to.equal(`wsmesh broker acl: ${accountsFile}: accounts[0].kind: must be one of node, device, backend\n`);
    });

    it('warns when no node account is in the file, and still writes', async () => {
      writeFileSync(accountsFile, await accountsFileText(['thermo-17']));
      writeFileSync(passwordsFile, 'thermo-17:thermo-17-password\n');
      const { code, stderr } = await run(...mosquittoArgs());
      expect(code).to.equal(0);
      expect(stderr).to.contain('warning:').and.to.contain('has no node account, so no node can connect');
      expect(existsSync(join(out, 'wsmesh.acl'))).to.equal(true);
    });
  });

  describe('usage', () => {
    it('prints the usage on stdout for --help, exit 0', async () => {
      const { code, stdout } = await run('--help');
      expect(code).to.equal(0);
      expect(stdout).to.equal(`${BROKER_ACL_USAGE}\n`);
      expect(BROKER_ACL_USAGE).to.match(/^Usage: wsmesh broker acl --accounts FILE \(--mosquitto DIR \| --nats FILE\) --passwords FILE \[--cluster-name NAME\]\n/);
    });

    const cases: Array<[string, string[], string]> = [
      ['no arguments', [], '--accounts is required'],
      ['no --passwords', ['--accounts', 'a', '--mosquitto', 'd'], '--passwords is required'],
      ['no broker', ['--accounts', 'a', '--passwords', 'p'], 'give one broker to write for: --mosquitto DIR or --nats FILE'],
      ['both brokers', ['--accounts', 'a', '--passwords', 'p', '--mosquitto', 'd', '--nats', 'f'], 'give one broker to write for'],
      ['an unknown flag', ['--accounts', 'a', '--password', 'p'], 'unknown flag --password'],
      ['a positional argument', ['acl'], 'unexpected argument "acl"'],
      ['a flag without its value', ['--accounts'], '--accounts needs a value'],
      ['a cluster name NATS and topics cannot take', ['--accounts', 'a', '--passwords', 'p', '--mosquitto', 'd', '--cluster-name', 'a.b'], `--cluster-name must be 1 to 64 letters, digits, '_' and '-': "a.b"`],
    ];
    for (const [what, args, message] of cases) {
      it(`answers ${what} with the reason and the synopsis, exit 2`, async () => {
        const { code, stdout, stderr } = await run(...args);
        expect(code).to.equal(2);
        expect(stdout).to.equal('');
        expect(stderr).to.contain(`wsmesh broker acl: ${message}`);
        expect(stderr).to.contain('\nUsage: wsmesh broker acl --accounts FILE').and.to.contain('wsmesh broker acl --help shows every flag.');
      });
    }
  });
});
