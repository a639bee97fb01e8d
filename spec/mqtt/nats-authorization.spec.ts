import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Accounts } from '../../src/mqtt/accounts.ts';
import { grantsOf, topicMatches } from '../../src/mqtt/grants.ts';
import { generateNatsAuthorization, NATS_MQTT_DELIVERY, natsPermissions, natsSubjects } from '../../src/mqtt/nats-authorization.ts';
import { natsPasswordHash, verifyNatsPassword } from '../../src/mqtt/nats-password.ts';
import { installedBinary, requireBinariesOrSkip } from '../support/binaries.ts';
import { accountsWithoutHashes, PASSWORDS } from './fixtures.ts';

/** A fake hash for fast tests: recognisable, and never the password. */
const fakeHash = async (password: string) => `$2b$04$fake-${Buffer.from(password).length}`;

/** Whether NATS subject `subject` (no wildcards) matches the permission `pattern`. */
function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

describe('nats-authorization', () => {
  const accounts = accountsWithoutHashes();

  describe('#natsSubjects', () => {
    it('maps "/" to ".", "+" to "*", and a trailing "#" to the parent and ".>"', () => {
      expect(natsSubjects('a/b')).to.deep.equal(['a.b']);
      expect(natsSubjects('a/+/c')).to.deep.equal(['a.*.c']);
      expect(natsSubjects('a/b/#')).to.deep.equal(['a.b', 'a.b.>']);
      expect(natsSubjects('a/+/#')).to.deep.equal(['a.*', 'a.*.>']);
      expect(natsSubjects('#')).to.deep.equal(['>']);
    });

    it('covers, with its subjects, exactly the topics the MQTT filter matches', () => {
      const topics = ['w', 'w/ingress', 'w/ingress/1', 'w/ingress/1/3', 'w/ingress/1/3/ws/mail', 'w/ingress/1/5', 'w/ingress/2/3', 'w/internal/x', 'w/egress/1/3/c1'];
      for (const filter of ['w/ingress/#', 'w/ingress/1/3/#', 'w/ingress/1/#', 'w/+/1/#', 'w/internal/+', '#']) {
        const subjects = natsSubjects(filter);
        for (const topic of topics) {
          const subject = topic.replaceAll('/', '.');
          expect(subjects.some((s) => subjectMatches(s, subject)), `${filter} vs ${topic}`).to.equal(topicMatches(filter, topic));
        }
      }
    });

    for (const filter of ['a.b/c', 'a//b', 'a/ b', 'a/#/b', '', '/a', 'a/', 'a/b#', 'a/+x']) {
      it(`refuses ${JSON.stringify(filter)} (NATS maps such a level otherwise, or it is no filter)`, () => {
        expect(() => natsSubjects(filter)).to.throw('NATS would not map');
      });
    }
  });

  describe('#natsPermissions', () => {
    it('gives each kind its grants as subjects, and $MQTT.sub.> to those that may subscribe', () => {
      const of = (id: string) => natsPermissions(accounts.byId.get(id)!, 'wsmesh');
      expect(of('node-1')).to.deep.equal({
        publish: { allow: ['wsmesh.internal', 'wsmesh.internal.>', 'wsmesh.egress', 'wsmesh.egress.>'] },
        subscribe: { allow: ['wsmesh.internal', 'wsmesh.internal.>', 'wsmesh.ingress', 'wsmesh.ingress.>', NATS_MQTT_DELIVERY] },
      });
      expect(of('thermo-17')).to.deep.equal({
        publish: { allow: ['wsmesh.ingress.1.3', 'wsmesh.ingress.1.3.>', 'wsmesh.ingress.1.4', 'wsmesh.ingress.1.4.>'] },
        subscribe: { deny: ['>'] },
      });
      expect(of('gateway-2')).to.deep.equal({ publish: { allow: ['wsmesh.ingress.2', 'wsmesh.ingress.2.>'] }, subscribe: { deny: ['>'] } });
      expect(of('mail-backend')).to.deep.equal({
        publish: { allow: ['wsmesh.ingress', 'wsmesh.ingress.>'] },
        subscribe: { allow: ['wsmesh.egress', 'wsmesh.egress.>', NATS_MQTT_DELIVERY] },
      });
    });

    it('derives from grantsOf: every grant filter is there as subjects, nothing else but $MQTT.sub.>', () => {
      for (const account of accounts.byId.values()) {
        const grants = grantsOf(account, 'wsmesh');
        const permissions = natsPermissions(account, 'wsmesh');
        const allowed = (rule: typeof permissions.publish) => ('allow' in rule ? rule.allow : []);
        expect(allowed(permissions.publish)).to.deep.equal(grants.publish.flatMap(natsSubjects));
        expect(allowed(permissions.subscribe).filter((s) => s !== NATS_MQTT_DELIVERY)).to.deep.equal(grants.subscribe.flatMap(natsSubjects));
      }
    });

    it('denies ">" rather than writing an empty allow list, which NATS reads as "allow everything"', () => {
      const mute = { kind: 'device' as const, context: 1, users: [] };
      expect(natsPermissions(mute, 'wsmesh')).to.deep.equal({ publish: { deny: ['>'] }, subscribe: { deny: ['>'] } });
    });

    it('writes the cluster name as the first token', () => {
      expect(natsPermissions(accounts.byId.get('mail-backend')!, 'other').publish).to.deep.equal({ allow: ['other.ingress', 'other.ingress.>'] });
    });
  });

  describe('#generateNatsAuthorization', () => {
    it('writes the WSMESH account, JetStream on, one MQTT-only user per account with its permissions', async () => {
      const text = await generateNatsAuthorization(accounts, 'wsmesh', PASSWORDS, { hash: fakeHash });
      expect(text).to.match(/^# NATS accounts of the wsmesh cluster "wsmesh": include this file from every server's config\.\n# GENERATED by "wsmesh broker acl" from "accounts\.json": do not edit\./);
      expect(text).to.contain('accounts {\n  WSMESH: {\n    jetstream: enabled\n    users: [\n');
      expect(text).to.contain(
        [
          '      # device thermo-17: context 1, users 3, 4',
          '      {',
          '        user: "thermo-17"',
          `        password: "${await fakeHash(PASSWORDS.get('thermo-17')!)}"`,
          '        allowed_connection_types: ["MQTT"]',
          '        permissions: {',
          '          publish: { allow: ["wsmesh.ingress.1.3", "wsmesh.ingress.1.3.>", "wsmesh.ingress.1.4", "wsmesh.ingress.1.4.>"] }',
          '          subscribe: { deny: [">"] }',
          '        }',
          '      }',
        ].join('\n'),
      );
      expect(text.match(/^ {8}user: /gm)).to.have.length(accounts.byId.size);
      expect(text.match(/allowed_connection_types: \["MQTT"\]/g)).to.have.length(accounts.byId.size);
    });

    it('stores bcrypt hashes of the passwords, never a password', async function () {
      this.timeout(20_000);
      const text = await generateNatsAuthorization(accounts, 'wsmesh', PASSWORDS, { hash: (password) => natsPasswordHash(password, 4) });
      for (const [id, password] of PASSWORDS) {
        expect(text).not.to.contain(password);
        const hash = new RegExp(`user: "${id}"\\n {8}password: "([^"]+)"`).exec(text)?.[1];
        expect(await verifyNatsPassword(password, hash!), id).to.equal(true);
      }
    });

    it('hashes with bcrypt at cost 11 by default', async function () {
      this.timeout(20_000);
      const one: Accounts = { source: 'x', byId: new Map([['node-1', accounts.byId.get('node-1')!]]) };
      expect(await generateNatsAuthorization(one, 'wsmesh', PASSWORDS)).to.match(/password: "\$2b\$11\$/);
    });

    it('throws naming an account without a password, or with one bcrypt cannot take', async () => {
      const some = new Map([...PASSWORDS].filter(([id]) => id !== 'mail-backend'));
      expect(((await generateNatsAuthorization(accounts, 'wsmesh', some, { hash: fakeHash }).catch((e: Error) => e)) as Error).message).to.equal('no password for the account "mail-backend"');
      const long = new Map([...PASSWORDS, ['gateway-2', 'x'.repeat(73)]]);
      const error = (await generateNatsAuthorization(accounts, 'wsmesh', long).catch((e: Error) => e)) as Error;
      expect(error.message).to.match(/^the password of the account "gateway-2": the password is 73 bytes long/);
    });

    describe('with the real nats-server', () => {
      let dir: string;

      before(function () {
        requireBinariesOrSkip(this, 'nats-server');
        dir = mkdtempSync(join(tmpdir(), 'wsmesh-nats-authorization-'));
      });

      after(() => {
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      it('is a configuration nats-server accepts (nats-server -t), "$" values included', async function () {
        this.timeout(20_000);
        writeFileSync(join(dir, 'accounts.conf'), await generateNatsAuthorization(accounts, 'wsmesh', PASSWORDS, { hash: (password) => natsPasswordHash(password, 4) }));
        writeFileSync(join(dir, 'server.conf'), `listen: 127.0.0.1:-1\njetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }\nmqtt { listen: 127.0.0.1:-1 }\ninclude ./accounts.conf\n`);
        const check = spawnSync(installedBinary('nats-server'), ['-t', '-c', join(dir, 'server.conf')], { encoding: 'utf8', timeout: 10_000 });
        expect(check.status, check.stderr + check.stdout).to.equal(0);
        expect(check.stderr + check.stdout).to.contain('is valid');
      });
    });
  });
});
