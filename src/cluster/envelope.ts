/**
 * Authenticated payloads for the node-internal topics (pure; no I/O).
 *
 * Anyone who can write to the broker could otherwise forge a session record, a
 * registry entry, a delivery or a close command. Every internal payload is sealed
 * with an HMAC-SHA256 under the cluster key, computed over the topic and the body,
 * so a sealed body cannot be moved to another topic either (a session record for
 * user 3 replayed under another session id, a delivery for one user sent to
 * another). Wire format, ASCII:
 *
 *   w1.<mac: 22 chars base64url, the first 16 bytes of the HMAC>.<body: JSON>
 *
 * An empty payload (a retained delete) cannot be sealed; receivers decide per
 * topic what an unsealed delete may do (see docs/cluster.md, "A broker that is
 * not trusted").
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'w1.';
const MAC_BYTES = 16;
const MAC_CHARS = 22; // base64url of 16 bytes, unpadded

export class ClusterKey {
  private constructor(private readonly key: Buffer) {}

  /**
   * `cluster.secret` when set; else derived from the first `session.keys` entry
   * (HKDF-SHA256, its own label, so the cookie key is never used as is); else a
   * random key, which only a node alone can use.
   */
  static from(settings: { secret: string; sessionKeys: readonly string[] }): { key: ClusterKey; source: 'secret' | 'session.keys' | 'random' } {
    if (settings.secret) return { key: new ClusterKey(derive(settings.secret)), source: 'secret' };
    if (settings.sessionKeys.length > 0) return { key: new ClusterKey(derive(settings.sessionKeys[0])), source: 'session.keys' };
    return { key: new ClusterKey(randomBytes(32)), source: 'random' };
  }

  seal(topic: string, body: string): Buffer {
    return Buffer.from(`${PREFIX}${this.mac(topic, body).toString('base64url')}.${body}`);
  }

  /** The body when the seal is valid for this topic; undefined for anything else. */
  open(topic: string, payload: Buffer): string | undefined {
    if (payload.length < PREFIX.length + MAC_CHARS + 1) return undefined;
    const text = payload.toString('utf8');
    if (!text.startsWith(PREFIX) || text[PREFIX.length + MAC_CHARS] !== '.') return undefined;
    // Compared as text: base64url decoding also accepts '+' and '/', and ignores the
    // last character's padding bits, so several spellings decode to the same MAC.
    const presented = Buffer.from(text.slice(PREFIX.length, PREFIX.length + MAC_CHARS));
    const body = text.slice(PREFIX.length + MAC_CHARS + 1);
    const expected = Buffer.from(this.mac(topic, body).toString('base64url'));
    if (presented.length !== expected.length) return undefined;
    return timingSafeEqual(presented, expected) ? body : undefined;
  }

  private mac(topic: string, body: string): Buffer {
    return createHmac('sha256', this.key).update(topic).update('\u0000').update(body).digest().subarray(0, MAC_BYTES);
  }
}

function derive(material: string): Buffer {
  return Buffer.from(hkdfSync('sha256', material, 'wsmesh', 'wsmesh cluster messages v1', 32));
}
