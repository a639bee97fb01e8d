import { expect } from 'chai';
import { BCRYPT_MAX_BYTES, NATS_BCRYPT_COST, natsPasswordHash, verifyNatsPassword } from '../../src/mqtt/nats-password.ts';

describe('nats-password', () => {
  describe('#natsPasswordHash', () => {
    it('writes a bcrypt hash at cost 11 that verifies the password only', async () => {
      const hash = await natsPasswordHash('wonderland');
      expect(NATS_BCRYPT_COST).to.equal(11);
      expect(hash).to.match(/^\$2b\$11\$[./A-Za-z0-9]{53}$/);
      expect(await verifyNatsPassword('wonderland', hash)).to.equal(true);
      expect(await verifyNatsPassword('Wonderland', hash)).to.equal(false);
    });

    it('takes another cost, and draws a fresh salt each time', async () => {
      const [a, b] = [await natsPasswordHash('x', 4), await natsPasswordHash('x', 4)];
      expect(a).to.match(/^\$2b\$04\$/);
      expect(a).not.to.equal(b);
    });

    it('takes a password of exactly 72 bytes, counting UTF-8 bytes', async () => {
      const password = '\u20ac'.repeat(24); // 3 bytes each
      expect(Buffer.byteLength(password)).to.equal(BCRYPT_MAX_BYTES);
      expect(await verifyNatsPassword(password, await natsPasswordHash(password, 4))).to.equal(true);
    });

    it('refuses a longer one rather than letting bcrypt cut it, without echoing it', async () => {
      const password = '\u20ac'.repeat(25);
      const error = await natsPasswordHash(password, 4).catch((err: Error) => err);
      expect(error).to.be.instanceOf(Error);
      expect((error as Error).message).to.contain('75 bytes long').and.not.to.contain(password);
    });

    it('refuses an empty password and a cost bcrypt has not', async () => {
      expect(((await natsPasswordHash('').catch((err: Error) => err)) as Error).message).to.contain('empty');
      for (const cost of [3, 32, 10.5]) expect(((await natsPasswordHash('x', cost).catch((err: Error) => err)) as Error).message).to.contain('cost');
    });
  });

  describe('#verifyNatsPassword', () => {
    it('says false for a malformed hash', async () => {
      for (const stored of ['', 'not a hash', '$2b$11$short']) expect(await verifyNatsPassword('x', stored), stored).to.equal(false);
    });
  });
});
