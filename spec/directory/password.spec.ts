import { expect } from 'chai';
import { DUMMY_HASH, hashPassword, isPasswordHash, SCRYPT_DEFAULTS, verifyPassword } from '../../src/directory/password.ts';

describe('password', () => {
  let aliceHash: string;
  before(async () => {
    aliceHash = await hashPassword('wonderland');
  });

  describe('#hashPassword', () => {
    it('writes scrypt$N$r$p$salt$hash with the default parameters, a 16-byte salt and a 32-byte key', () => {
      const [scheme, N, r, p, salt, hash, ...rest] = aliceHash.split('$');
      expect(rest).to.deep.equal([]);
      expect([scheme, Number(N), Number(r), Number(p)]).to.deep.equal(['scrypt', 16384, 8, 1]);
      expect(Buffer.from(salt, 'base64')).to.have.length(SCRYPT_DEFAULTS.saltBytes);
      expect(Buffer.from(hash, 'base64')).to.have.length(SCRYPT_DEFAULTS.keyBytes);
    });

    it('salts: the same password hashes differently each time', async () => {
      expect(await hashPassword('wonderland')).not.to.equal(aliceHash);
    });
  });

  describe('#verifyPassword', () => {
    it('accepts the password that was hashed', async () => {
      expect(await verifyPassword('wonderland', aliceHash)).to.equal(true);
    });

    for (const wrong of ['', 'Wonderland', 'wonderland ', ' wonderland', 'wonderlan', 'wonderland\n']) {
      it(`refuses ${JSON.stringify(wrong)} when the password is "wonderland"`, async () => {
        expect(await verifyPassword(wrong, aliceHash)).to.equal(false);
      });
    }

    it('accepts a non-ASCII password typed composed or decomposed', async () => {
      const stored = await hashPassword('caf\u00e9 \u{1F511}');
      expect(await verifyPassword('caf\u00e9 \u{1F511}', stored)).to.equal(true);
      expect(await verifyPassword('cafe\u0301 \u{1F511}', stored)).to.equal(true);
    });

    it('verifies with the parameters stored in the hash, not the defaults', async () => {
      // N=1024, r=8, p=1, a 16-byte key: computed once, checked here so raising the defaults cannot break old hashes.
      const { scryptSync } = await import('node:crypto');
      const salt = Buffer.alloc(16, 7);
      const key = scryptSync('old', salt, 16, { N: 1024, r: 8, p: 1 });
      const stored = `scrypt$1024$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
      expect(await verifyPassword('old', stored)).to.equal(true);
      expect(await verifyPassword('new', stored)).to.equal(false);
    });

    it('never verifies anything against DUMMY_HASH', async () => {
      for (const guess of ['', 'password', 'wonderland', 'dummy']) expect(await verifyPassword(guess, DUMMY_HASH)).to.equal(false);
    });

    it('spends about as long on DUMMY_HASH as on a real hash', async () => {
      // Interleaved, so load from elsewhere on the machine hits both sides alike; a dummy
      // with cheaper parameters (N=1024 would be 16 times faster) falls far outside the bounds.
      const elapsed = { dummy: 0, real: 0 };
      const time = async (stored: string): Promise<number> => {
        const start = process.hrtime.bigint();
        await verifyPassword('guess', stored);
        return Number(process.hrtime.bigint() - start);
      };
      await time(DUMMY_HASH); // warm up
      for (let i = 0; i < 4; i++) {
        elapsed.dummy += await time(DUMMY_HASH);
        elapsed.real += await time(aliceHash);
      }
      expect(elapsed.dummy / elapsed.real).to.be.within(1 / 3, 3);
    });

    const malformed: Array<[string, unknown]> = [
      ['an empty string', ''],
      ['clear text', 'wonderland'],
      ['another scheme', 'bcrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      ['a missing field', 'scrypt$16384$8$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      ['an extra field', 'scrypt$16384$8$1$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      ['N not a power of two', 'scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      ['N of 1', 'scrypt$1$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      ['N huge', 'scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      ['r huge', 'scrypt$16384$4096$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      ['p zero', 'scrypt$16384$8$0$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      ['a non-decimal N', 'scrypt$0x4000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      ['a salt that is not base64', 'scrypt$16384$8$1$!!!!AAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      ['a short salt', 'scrypt$16384$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      ['a short hash', 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA'],
      ['an empty hash', 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$'],
      ['a non-canonical base64 hash', 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB='],
      ['a number', 42],
      ['null', null],
    ];
    for (const [what, stored] of malformed) {
      it(`answers false without throwing when the stored hash is ${what}`, async () => {
        expect(await verifyPassword('wonderland', stored as string)).to.equal(false);
        expect(isPasswordHash(stored)).to.equal(false);
      });
    }
  });

  describe('#isPasswordHash', () => {
    it('accepts a fresh hash and DUMMY_HASH', () => {
      expect(isPasswordHash(aliceHash)).to.equal(true);
      expect(isPasswordHash(DUMMY_HASH)).to.equal(true);
    });
  });
});
