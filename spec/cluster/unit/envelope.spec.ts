import { expect } from 'chai';
import { ClusterKey } from '../../../src/cluster/envelope.ts';

const TOPIC = 'wsmesh/internal/sessions/abc';
const BODY = '{"v":1,"id":"abc","ended":5,"expiresAt":10}';
const secretKey = () => ClusterKey.from({ secret: 'cluster-secret', sessionKeys: [] }).key;

/** The sealed payload split into its three parts. */
function parts(payload: Buffer): { prefix: string; mac: string; body: string } {
  const text = payload.toString('utf8');
  return { prefix: text.slice(0, 3), mac: text.slice(3, 25), body: text.slice(26) };
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('ClusterKey (envelope)', () => {
  describe('seal / open', () => {
    it('opens its own seal on the same topic and returns the body unchanged', () => {
      const key = secretKey();
      expect(key.open(TOPIC, key.seal(TOPIC, BODY))).to.equal(BODY);
    });

    it('seals in the wire format w1.<22-char base64url mac>.<body>', () => {
      const sealed = secretKey().seal(TOPIC, BODY).toString('utf8');
      expect(sealed).to.match(/^w1\.[A-Za-z0-9_-]{22}\./);
      expect(parts(Buffer.from(sealed)).body).to.equal(BODY);
    });

    it('round-trips an empty body and a body with non-ASCII characters', () => {
      const key = secretKey();
      expect(key.open(TOPIC, key.seal(TOPIC, ''))).to.equal('');
      const text = '{"m":"grüße ✓ 日本"}';
      expect(key.open(TOPIC, key.seal(TOPIC, text))).to.equal(text);
    });

    it('is deterministic: the same topic and body give the same seal', () => {
      const key = secretKey();
      expect(key.seal(TOPIC, BODY).equals(key.seal(TOPIC, BODY))).to.equal(true);
    });

    it('refuses a seal presented on another topic (a body cannot be moved)', () => {
      const key = secretKey();
      const sealed = key.seal(TOPIC, BODY);
      expect(key.open('wsmesh/internal/sessions/abd', sealed)).to.equal(undefined);
      expect(key.open(TOPIC + '/', sealed)).to.equal(undefined);
    });

    it('binds topic and body apart: moving characters from the topic into the body is refused', () => {
      const key = secretKey();
      // Without a separator, ("ab", "c") and ("a", "bc") would share a MAC.
      const sealed = parts(key.seal('a/b', 'cd'));
      expect(key.open('a/', Buffer.from(`w1.${sealed.mac}.bcd`))).to.equal(undefined);
    });

    it('refuses a changed body', () => {
      const key = secretKey();
      const { mac } = parts(key.seal(TOPIC, BODY));
      expect(key.open(TOPIC, Buffer.from(`w1.${mac}.${BODY.replace('"ended":5', '"ended":6')}`))).to.equal(undefined);
      expect(key.open(TOPIC, Buffer.from(`w1.${mac}.${BODY} `))).to.equal(undefined);
    });

    it('refuses a changed mac (each of its 22 characters flipped in turn)', () => {
      const key = secretKey();
      const { mac } = parts(key.seal(TOPIC, BODY));
      for (let i = 0; i < mac.length; i++) {
        // Flip the highest bit of the character's 6-bit value: always changes the decoded bytes.
        const flipped = BASE64URL[BASE64URL.indexOf(mac[i]) ^ 32];
        const changed = mac.slice(0, i) + flipped + mac.slice(i + 1);
        expect(key.open(TOPIC, Buffer.from(`w1.${changed}.${BODY}`)), `char ${i}`).to.equal(undefined);
      }
    });

    it('refuses a mac spelled differently that decodes to the same 16 bytes (only the canonical encoding is accepted)', () => {
      const key = secretKey();
      const { mac } = parts(key.seal(TOPIC, BODY));
      // The 22nd character carries 2 bits of the MAC and 4 padding bits: flipping a padding bit
      // keeps the decoded bytes the same.
      const alias = mac.slice(0, 21) + BASE64URL[BASE64URL.indexOf(mac[21]) ^ 1];
      expect(Buffer.from(alias, 'base64url').equals(Buffer.from(mac, 'base64url'))).to.equal(true);
      expect(key.open(TOPIC, Buffer.from(`w1.${alias}.${BODY}`))).to.equal(undefined);
    });

    it('refuses a mac in the standard base64 alphabet (+ and / in place of - and _)', () => {
      const key = secretKey();
      // Find a body whose mac has a '-' or '_', so that the standard spelling differs.
      let body = BODY;
      let mac = parts(key.seal(TOPIC, body)).mac;
      for (let i = 0; !/[-_]/.test(mac); i++) mac = parts(key.seal(TOPIC, (body = `{"i":${i}}`))).mac;
      const standard = mac.replace(/-/g, '+').replace(/_/g, '/');
      expect(key.open(TOPIC, Buffer.from(`w1.${standard}.${body}`))).to.equal(undefined);
    });

    it('refuses an unsealed body (a raw JSON payload)', () => {
      expect(secretKey().open(TOPIC, Buffer.from(BODY))).to.equal(undefined);
    });

    it('refuses a payload without the w1. prefix, or with another version prefix', () => {
      const key = secretKey();
      const sealed = key.seal(TOPIC, BODY).toString('utf8');
      expect(key.open(TOPIC, Buffer.from(sealed.slice(3)))).to.equal(undefined);
      expect(key.open(TOPIC, Buffer.from('w2.' + sealed.slice(3)))).to.equal(undefined);
      expect(key.open(TOPIC, Buffer.from('W1.' + sealed.slice(3)))).to.equal(undefined);
    });

    it('refuses a short mac, a long mac and a missing separator', () => {
      const key = secretKey();
      const { mac } = parts(key.seal(TOPIC, BODY));
      expect(key.open(TOPIC, Buffer.from(`w1.${mac.slice(0, 21)}.${BODY}`))).to.equal(undefined);
      expect(key.open(TOPIC, Buffer.from(`w1.${mac}A.${BODY}`))).to.equal(undefined);
      expect(key.open(TOPIC, Buffer.from(`w1.${mac}${BODY}`))).to.equal(undefined);
    });

    it('refuses a mac of 22 characters that are not base64url', () => {
      const key = secretKey();
      expect(key.open(TOPIC, Buffer.from(`w1.${'!'.repeat(22)}.${BODY}`))).to.equal(undefined);
      expect(key.open(TOPIC, Buffer.from(`w1.${'='.repeat(22)}.${BODY}`))).to.equal(undefined);
    });

    it('refuses payloads shorter than prefix + mac + separator, the empty payload included, without throwing', () => {
      const key = secretKey();
      for (const text of ['', 'w', 'w1.', `w1.${'A'.repeat(22)}`]) expect(key.open(TOPIC, Buffer.from(text)), JSON.stringify(text)).to.equal(undefined);
    });

    it('refuses binary garbage and non-UTF-8 bytes without throwing', () => {
      const key = secretKey();
      const sealed = key.seal(TOPIC, 'x');
      const broken = Buffer.concat([sealed.subarray(0, 26), Buffer.from([0xff, 0xfe, 0x00])]);
      expect(key.open(TOPIC, broken)).to.equal(undefined);
      expect(key.open(TOPIC, Buffer.alloc(64, 0xff))).to.equal(undefined);
      // A multi-byte character inside the mac field: byte and character counts differ.
      expect(key.open(TOPIC, Buffer.from(`w1.${'é'.repeat(22)}.${BODY}`))).to.equal(undefined);
    });
  });

  describe('keys', () => {
    it('does not open a seal made with another cluster.secret', () => {
      const a = ClusterKey.from({ secret: 'secret-a', sessionKeys: [] }).key;
      const b = ClusterKey.from({ secret: 'secret-b', sessionKeys: [] }).key;
      expect(b.open(TOPIC, a.seal(TOPIC, BODY))).to.equal(undefined);
      expect(a.open(TOPIC, b.seal(TOPIC, BODY))).to.equal(undefined);
    });

    it('derives the same key from the same cluster.secret on every node', () => {
      const a = ClusterKey.from({ secret: 'shared', sessionKeys: ['k1'] });
      const b = ClusterKey.from({ secret: 'shared', sessionKeys: ['other'] });
      expect(a.source).to.equal('secret');
      expect(b.key.open(TOPIC, a.key.seal(TOPIC, BODY))).to.equal(BODY);
    });

    it('prefers cluster.secret over session.keys when both are set', () => {
      const both = ClusterKey.from({ secret: 'shared', sessionKeys: ['k1'] }).key;
      const keysOnly = ClusterKey.from({ secret: '', sessionKeys: ['k1'] }).key;
      expect(keysOnly.open(TOPIC, both.seal(TOPIC, BODY))).to.equal(undefined);
    });

    it('derives from the first session.keys entry when cluster.secret is empty', () => {
      const a = ClusterKey.from({ secret: '', sessionKeys: ['k1', 'k2'] });
      const b = ClusterKey.from({ secret: '', sessionKeys: ['k1', 'other'] });
      const c = ClusterKey.from({ secret: '', sessionKeys: ['k2', 'k1'] });
      expect(a.source).to.equal('session.keys');
      expect(b.key.open(TOPIC, a.key.seal(TOPIC, BODY))).to.equal(BODY);
      expect(c.key.open(TOPIC, a.key.seal(TOPIC, BODY))).to.equal(undefined);
    });

    it('derives the same key from equal material, whether it came as cluster.secret or as session.keys[0]', () => {
      // Both go through the same HKDF: the source changes nothing but the label reported.
      const fromSecret = ClusterKey.from({ secret: 'm', sessionKeys: [] }).key;
      const fromKeys = ClusterKey.from({ secret: '', sessionKeys: ['m'] }).key;
      expect(fromKeys.open(TOPIC, fromSecret.seal(TOPIC, BODY))).to.equal(BODY);
    });

    it('never uses the cookie key as is: the MAC is not HMAC-SHA256 under the raw session key', async () => {
      const { createHmac } = await import('node:crypto');
      const sealed = ClusterKey.from({ secret: '', sessionKeys: ['k1'] }).key.seal(TOPIC, BODY);
      const raw = createHmac('sha256', 'k1').update(TOPIC).update('\u0000').update(BODY).digest().subarray(0, 16).toString('base64url');
      expect(parts(sealed).mac).to.not.equal(raw);
      expect(parts(sealed).mac).to.have.length(22);
    });

    it('falls back to a random key when neither is set: two such keys do not open each other', () => {
      const a = ClusterKey.from({ secret: '', sessionKeys: [] });
      const b = ClusterKey.from({ secret: '', sessionKeys: [] });
      expect(a.source).to.equal('random');
      expect(a.key.open(TOPIC, a.key.seal(TOPIC, BODY))).to.equal(BODY);
      expect(b.key.open(TOPIC, a.key.seal(TOPIC, BODY))).to.equal(undefined);
    });
  });
});
