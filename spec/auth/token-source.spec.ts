import { expect } from 'chai';
import { cookieValue, tokenOf } from '../../src/auth/token-source.ts';

describe('auth/token-source', () => {
  describe('#tokenOf', () => {
    it('takes ?token= from URLSearchParams', () => {
      expect(tokenOf(new URLSearchParams('token=a.b.c&session=x'), undefined, '')).to.equal('a.b.c');
    });

    it('takes the token from a Koa-style query object', () => {
      expect(tokenOf({ token: 'a.b.c' }, undefined, '')).to.equal('a.b.c');
    });

    it('takes the first value of a repeated query parameter', () => {
      expect(tokenOf(new URLSearchParams('token=first&token=second'), undefined, '')).to.equal('first');
      expect(tokenOf({ token: ['first', 'second'] }, undefined, '')).to.equal('first');
    });

    it('prefers ?token= to the cookie', () => {
      expect(tokenOf(new URLSearchParams('token=q'), 'jwt=c', 'jwt')).to.equal('q');
    });

    it('falls back to the named cookie when there is no ?token=', () => {
      expect(tokenOf(new URLSearchParams('session=x'), 'other=1; jwt=c.d.e; more=2', 'jwt')).to.equal('c.d.e');
    });

    it('falls back to the cookie when ?token= is empty', () => {
      expect(tokenOf(new URLSearchParams('token='), 'jwt=c', 'jwt')).to.equal('c');
      expect(tokenOf({ token: '' }, 'jwt=c', 'jwt')).to.equal('c');
    });

    it('ignores query values that are not strings', () => {
      expect(tokenOf({ token: 42 }, undefined, '')).to.equal(undefined);
      expect(tokenOf({ token: [] }, undefined, '')).to.equal(undefined);
      expect(tokenOf({ token: { nested: 'x' } }, 'jwt=c', 'jwt')).to.equal('c');
    });

    it('reads no cookie when no cookie name is configured', () => {
      expect(tokenOf(new URLSearchParams(''), 'jwt=c', '')).to.equal(undefined);
    });

    it('gives undefined without query token and cookie header', () => {
      expect(tokenOf(new URLSearchParams(''), undefined, 'jwt')).to.equal(undefined);
      expect(tokenOf({}, '', 'jwt')).to.equal(undefined);
    });

    it('does not take ?token= from a parameter of a similar name', () => {
      expect(tokenOf(new URLSearchParams('tokens=x&xtoken=y'), undefined, '')).to.equal(undefined);
    });
  });

  describe('#cookieValue', () => {
    it('finds a cookie among others, with or without spaces after the semicolons', () => {
      expect(cookieValue('a=1;jwt=t;b=2', 'jwt')).to.equal('t');
      expect(cookieValue('a=1;  jwt=t ; b=2', 'jwt')).to.equal('t');
    });

    it('matches the whole name, not a prefix or suffix', () => {
      expect(cookieValue('xjwt=1; jwtx=2', 'jwt')).to.equal(undefined);
      expect(cookieValue('my_jwt=1; jwt=2', 'jwt')).to.equal('2');
    });

    it('does not take a name from inside another cookie value', () => {
      expect(cookieValue('a=jwt=evil', 'jwt')).to.equal(undefined);
    });

    it('keeps "=" inside the value (base64 padding)', () => {
      expect(cookieValue('jwt=abc==', 'jwt')).to.equal('abc==');
    });

    it('takes the first of a name sent twice', () => {
      expect(cookieValue('jwt=specific; jwt=general', 'jwt')).to.equal('specific');
    });

    it('skips an empty value for a later non-empty one', () => {
      expect(cookieValue('jwt=; jwt=t', 'jwt')).to.equal('t');
      expect(cookieValue('jwt=', 'jwt')).to.equal(undefined);
      expect(cookieValue('jwt=""', 'jwt')).to.equal(undefined);
    });

    it('removes double quotes around a value', () => {
      expect(cookieValue('jwt="a.b.c"', 'jwt')).to.equal('a.b.c');
    });

    it('decodes a percent-encoded value and keeps a malformed escape as it came', () => {
      expect(cookieValue('jwt=a%2Eb', 'jwt')).to.equal('a.b');
      expect(cookieValue('jwt=a%zzb', 'jwt')).to.equal('a%zzb');
    });

    it('ignores pairs without "=" and an empty header', () => {
      expect(cookieValue('jwt; a=1', 'jwt')).to.equal(undefined);
      expect(cookieValue('', 'jwt')).to.equal(undefined);
      expect(cookieValue(';;;', 'jwt')).to.equal(undefined);
    });

    it('is case-sensitive in the name (RFC 6265 compares names exactly)', () => {
      expect(cookieValue('JWT=t', 'jwt')).to.equal(undefined);
    });
  });
});
