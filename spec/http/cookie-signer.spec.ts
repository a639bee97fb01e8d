import { expect } from 'chai';
import Keygrip from 'keygrip';
import { CookieSigner } from '../../src/http/cookie-signer.ts';

describe('CookieSigner (the secret cookie signature, keygrip-compatible)', () => {
  const data = 'wsmesh-secret=abc123';

  it('signs exactly as keygrip does, so cookies signed before keep working', () => {
    for (const keys of [['k1'], ['a much longer signing key with spaces', 'old']]) {
      expect(new CookieSigner(keys).sign(data)).to.equal(new Keygrip(keys).sign(data));
    }
  });

  it('verifies with any of the keys (rotation) and says which one', () => {
    const signer = new CookieSigner(['new', 'old']);
    expect(signer.index(data, new Keygrip(['new']).sign(data))).to.equal(0);
    expect(signer.index(data, new Keygrip(['old']).sign(data))).to.equal(1);
    expect(signer.verify(data, new Keygrip(['old']).sign(data))).to.equal(true);
  });

  it('refuses a signature of another key, of other data, tampered, truncated, padded or empty', () => {
    const signer = new CookieSigner(['k1']);
    const good = signer.sign(data);
    const flipped = (good[0] === 'A' ? 'B' : 'A') + good.slice(1);
    for (const bad of [new Keygrip(['k2']).sign(data), signer.sign(data + 'x'), flipped, good.slice(0, -1), good + '=', '', 'é'.repeat(good.length)]) {
      expect(signer.index(data, bad), JSON.stringify(bad)).to.equal(-1);
      expect(signer.verify(data, bad)).to.equal(false);
    }
  });

  it('needs a key', () => {
    expect(() => new CookieSigner([])).to.throw(/at least one key/);
  });
});
