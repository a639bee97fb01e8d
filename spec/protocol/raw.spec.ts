/**
 * The raw protocol on `/ws/...` as a pure codec: a push is one text frame holding the
 * message as is, every inbound text frame is a message for the node, binary is 1003.
 */
import { expect } from 'chai';
import { CloseCode } from '../../src/errors.ts';
import { rawProtocol } from '../../src/protocol/raw.ts';

/** Strings that other protocols would interpret; raw must not. */
const TEXTS: Array<[string, string]> = [
  ['plain text', 'hello'],
  ['an empty string', ''],
  ['JSON of an event', '{"name":"E","args":[1]}'],
  ['a Socket.IO event frame', '42["e",1]'],
  ['an Engine.IO ping', '2'],
  ['an Engine.IO close', '1'],
  ['invalid JSON', '{not json'],
  ['non-ASCII and escapes', 'é 😀 \\ " \n\t'],
];

describe('rawProtocol', () => {
  it('is named raw and probes liveness with WebSocket pings', () => {
    expect(rawProtocol.name).to.equal('raw');
    expect(rawProtocol.ping).to.equal('ws-ping');
  });

  describe('#greeting', () => {
    it('writes nothing on open', () => {
      expect(rawProtocol.greeting('conn-1')).to.deep.equal([]);
    });
  });

  describe('#farewell', () => {
    it('writes nothing before a session-ended close (the close code 4401 says it)', () => {
      expect(rawProtocol.farewell('session-ended')).to.deep.equal([]);
    });
  });

  describe('#encode', () => {
    for (const [what, text] of TEXTS) {
      it(`sends ${what} as is`, () => {
        expect(rawProtocol.encode({ id: 'x', message: text })).to.equal(text);
      });
    }
  });

  describe('#decode', () => {
    for (const [what, text] of TEXTS) {
      it(`hands ${what} to the node as a message, with no reply`, () => {
        expect(rawProtocol.decode(Buffer.from(text, 'utf8'), false)).to.deep.equal({ kind: 'message', text });
      });
    }

    it('decodes the frame as UTF-8', () => {
      const bytes = Buffer.from([0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80]);
      expect(rawProtocol.decode(bytes, false)).to.deep.equal({ kind: 'message', text: 'é😀' });
    });

    it('refuses a binary frame with 1003 and a reason', () => {
      const inbound = rawProtocol.decode(Buffer.from([0, 1, 2]), true);
      expect(inbound).to.include({ kind: 'violation', closeCode: CloseCode.UNSUPPORTED_DATA });
      expect((inbound as { reason: string }).reason).to.be.a('string').and.not.equal('');
    });

    it('refuses a binary frame even when its bytes are valid text', () => {
      expect(rawProtocol.decode(Buffer.from('hello'), true)).to.include({ kind: 'violation', closeCode: 1003 });
    });
  });
});
