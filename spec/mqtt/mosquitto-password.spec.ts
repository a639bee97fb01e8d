import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MOSQUITTO_PBKDF2, mosquittoPasswordHash, verifyMosquittoPassword } from '../../src/mqtt/mosquitto-password.ts';
import { requireBinariesOrSkip } from '../support/binaries.ts';
import { mosquittoPasswd } from '../support/broker.ts';

/** Written by mosquitto_passwd 2.0.11 (`mosquitto_passwd -c -b F alice secret`): the reference the code must reproduce. */
const REFERENCE = { password: 'secret', hash: '$7$101$vTjRUMnO6n1I+zl0$YszXzlHsbHKh7JvBn8wkpFWtaQQog6ic2WnkjGqu4PORbmkaO0+qNRTuvNVsGhHF0304+5+UbHKF58ZbZcEDxw==' };

function saltOf(hash: string): Buffer {
  return Buffer.from(hash.split('$')[3], 'base64');
}

describe('mosquitto-password', () => {
  describe('#mosquittoPasswordHash', () => {
    it("reproduces mosquitto_passwd's hash given its salt", () => {
      expect(mosquittoPasswordHash(REFERENCE.password, { salt: saltOf(REFERENCE.hash) })).to.equal(REFERENCE.hash);
    });

    it('writes $7$, 101 iterations, a 12-byte salt and a 64-byte hash, in base64', () => {
      const hash = mosquittoPasswordHash('wonderland');
      expect(hash).to.match(/^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
      expect(saltOf(hash)).to.have.length(MOSQUITTO_PBKDF2.saltBytes);
      expect(Buffer.from(hash.split('$')[4], 'base64')).to.have.length(MOSQUITTO_PBKDF2.hashBytes);
    });

    it('draws a fresh salt for every hash', () => {
      expect(mosquittoPasswordHash('wonderland')).not.to.equal(mosquittoPasswordHash('wonderland'));
    });

    it('takes other iterations when asked', () => {
      const hash = mosquittoPasswordHash('wonderland', { iterations: 1000 });
      expect(hash).to.match(/^\$7\$1000\$/);
      expect(verifyMosquittoPassword('wonderland', hash)).to.equal(true);
    });

    for (const [what, password] of [['an empty password', ''], ['a NUL', 'a\0b'], ['a newline', 'a\nb'], ['a carriage return', 'a\rb']] as const) {
      it(`refuses ${what}`, () => {
        expect(() => mosquittoPasswordHash(password)).to.throw(/mosquitto|empty/);
      });
    }

    it('refuses an empty salt and iterations that are not a positive integer', () => {
      expect(() => mosquittoPasswordHash('x', { salt: Buffer.alloc(0) })).to.throw('salt');
      for (const iterations of [0, -1, 1.5, Number.NaN]) expect(() => mosquittoPasswordHash('x', { iterations })).to.throw('iterations');
    });
  });

  describe('#verifyMosquittoPassword', () => {
    it("accepts mosquitto_passwd's hash with the right password only", () => {
      expect(verifyMosquittoPassword('secret', REFERENCE.hash)).to.equal(true);
      expect(verifyMosquittoPassword('Secret', REFERENCE.hash)).to.equal(false);
    });

    it('hashes the UTF-8 bytes as given, not normalised', () => {
      const composed = 'caf\u00e9';
      const hash = mosquittoPasswordHash(composed);
      expect(verifyMosquittoPassword(composed, hash)).to.equal(true);
      expect(verifyMosquittoPassword('cafe\u0301', hash)).to.equal(false);
    });

    it('says false for anything malformed', () => {
      const [, , iterations, salt, hash] = REFERENCE.hash.split('$');
      for (const stored of [
        '',
        'secret',
        `$6$${salt}$${hash}`,
        `$7$x$${salt}$${hash}`,
        `$7$0$${salt}$${hash}`,
        `$7$${iterations}$${salt}$${hash.slice(4)}`,
        `$7$${iterations}$not base64!$${hash}`,
        `$7$${iterations}$${salt}$${hash}$extra`,
        undefined as unknown as string,
      ]) {
        expect(verifyMosquittoPassword('secret', stored), String(stored)).to.equal(false);
      }
    });
  });

  describe('against the real mosquitto_passwd', () => {
    let dir: string;

    before(function () {
      requireBinariesOrSkip(this, 'mosquitto_passwd');
      dir = mkdtempSync(join(tmpdir(), 'wsmesh-mosquitto-passwd-'));
    });

    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    for (const password of ['secret', 'p\u00e4ssw\u00f6rd \u20ac', 'with:colon and spaces ']) {
      it(`verifies what it writes, and rebuilds it from its salt (${JSON.stringify(password)})`, () => {
        const file = join(dir, 'passwd');
        mosquittoPasswd(file, 'alice', password, true);
        const hash = readFileSync(file, 'utf8').trim().split(':').slice(1).join(':');
        expect(verifyMosquittoPassword(password, hash)).to.equal(true);
        expect(mosquittoPasswordHash(password, { salt: saltOf(hash) })).to.equal(hash);
      });
    }
  });
});
