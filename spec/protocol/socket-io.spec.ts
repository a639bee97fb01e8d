/**
 * Socket.IO over Engine.IO v3 and v4 as a pure codec: what the server writes on
 * open, for a push and before a session-ended close, and what every inbound frame
 * means. Tables run once per Engine.IO version; a row without a version-specific
 * expectation holds for both.
 */
import { expect } from 'chai';
import { CloseCode } from '../../src/errors.ts';
import { rawProtocol } from '../../src/protocol/raw.ts';
import { selectProtocol, speaksSocketIo } from '../../src/protocol/select.ts';
import { encodeEvent, socketIoProtocol, type EngineVersion } from '../../src/protocol/socket-io.ts';
import type { Inbound, ProtocolSettings, WireProtocol } from '../../src/protocol/wire-protocol.ts';

const SETTINGS: ProtocolSettings = { pingInterval: 25000, pingTimeout: 20000, maxPayload: 65536 };
const SID = 'fixed-sid';
const VERSIONS: EngineVersion[] = [3, 4];

function decode(protocol: WireProtocol, frame: string | Buffer, isBinary = false): Inbound {
  return protocol.decode(typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame, isBinary);
}

const malformed = { kind: 'violation', closeCode: CloseCode.MALFORMED_PACKET } as const;
const unsupported = { kind: 'violation', closeCode: CloseCode.UNSUPPORTED_DATA } as const;
const normalClose = { kind: 'violation', closeCode: CloseCode.NORMAL } as const;
const ignored: Inbound = { kind: 'reply', frames: [] };

/** One inbound frame and what it means, per version when they differ; `only` limits a row to one version. */
interface DecodeRow {
  frame: string;
  what: string;
  expected: Partial<Inbound> | Record<EngineVersion, Partial<Inbound>>;
  only?: EngineVersion;
}

function expectedFor(row: DecodeRow, version: EngineVersion): Partial<Inbound> {
  const e = row.expected as Record<string, unknown>;
  return (3 in e && 4 in e ? e[version] : e) as Partial<Inbound>;
}

/** Compares the fields that matter; a violation's reason is only required to be non-empty. */
function expectInbound(actual: Inbound, expected: Partial<Inbound>): void {
  if (expected.kind === 'violation') {
    expect(actual.kind, JSON.stringify(actual)).to.equal('violation');
    const violation = actual as Extract<Inbound, { kind: 'violation' }>;
    expect(violation.closeCode).to.equal((expected as { closeCode: number }).closeCode);
    expect(violation.reason).to.be.a('string').and.not.equal('');
    return;
  }
  expect(actual).to.deep.equal(expected);
}

const ENGINE_IO_ROWS: DecodeRow[] = [
  { frame: '0', what: 'OPEN (only the server opens)', expected: malformed },
  { frame: '0{"sid":"x"}', what: 'OPEN with a payload', expected: malformed },
  { frame: '1', what: 'CLOSE', expected: normalClose },
  { frame: '2', what: 'PING', expected: { kind: 'alive', reply: ['3'] } },
  { frame: '2probe', what: 'PING with a payload (answered with the same payload)', expected: { kind: 'alive', reply: ['3probe'] } },
  { frame: '3', what: 'PONG', expected: { kind: 'alive' } },
  { frame: '3probe', what: 'PONG with a payload', expected: { kind: 'alive' } },
  { frame: '4', what: 'MESSAGE without a Socket.IO packet', expected: malformed },
  { frame: '5', what: 'UPGRADE', expected: ignored },
  { frame: '6', what: 'NOOP', expected: ignored },
  { frame: '', what: 'an empty frame', expected: malformed },
  { frame: '7', what: 'an unknown packet digit (7)', expected: malformed },
  { frame: '9', what: 'an unknown packet digit (9)', expected: malformed },
  { frame: 'x', what: 'a non-digit type', expected: malformed },
  { frame: ' 2', what: 'a leading space', expected: malformed },
  { frame: '{"type":"ping"}', what: 'JSON instead of a packet', expected: malformed },
];

const SOCKET_IO_ROWS: DecodeRow[] = [
  {
    frame: '40',
    what: 'CONNECT to /',
    expected: { 4: { kind: 'reply', frames: [`40{"sid":"${SID}#0"}`] }, 3: { kind: 'reply', frames: ['40'] } },
  },
  {
    frame: '40{"token":"t"}',
    what: 'CONNECT to / with an auth payload',
    expected: { 4: { kind: 'reply', frames: [`40{"sid":"${SID}#0"}`] }, 3: { kind: 'reply', frames: ['40'] } },
  },
  {
    frame: '40/,',
    what: 'CONNECT to an explicit /',
    expected: { 4: { kind: 'reply', frames: [`40{"sid":"${SID}#0"}`] }, 3: { kind: 'reply', frames: ['40'] } },
  },
  {
    frame: '40/admin,',
    what: 'CONNECT to another namespace',
    expected: { 4: { kind: 'reply', frames: ['44/admin,{"message":"Invalid namespace"}'] }, 3: { kind: 'reply', frames: ['44/admin,"Invalid namespace"'] } },
  },
  {
    frame: '40/admin',
    what: 'CONNECT to another namespace without the comma',
    expected: { 4: { kind: 'reply', frames: ['44/admin,{"message":"Invalid namespace"}'] }, 3: { kind: 'reply', frames: ['44/admin,"Invalid namespace"'] } },
  },
  // Socket.IO v4 (EIO=3) puts the socket's query into the CONNECT namespace
  // (socket.io-client 2.x Manager#packet: `nsp += '?' + query`); the reference server
  // answers for the pathname only (socket.io 2.x Client#ondecoded: url.parse(nsp).pathname),
  // and the 2.x client ignores an error whose namespace is not its own.
  {
    frame: '40/admin?session=s&connection=c,',
    what: 'CONNECT to another namespace with the query a 2.x client appends',
    expected: { kind: 'reply', frames: ['44/admin,"Invalid namespace"'] },
    only: 3,
  },
  { frame: '40/?x=1,', what: 'CONNECT to / with a query', expected: { kind: 'reply', frames: ['40'] }, only: 3 },
  { frame: '41', what: 'DISCONNECT', expected: normalClose },
  { frame: '42["e",1]', what: 'EVENT', expected: { kind: 'message', text: '{"name":"e","args":[1]}', reply: undefined, event: { name: 'e', args: [1] } } },
  { frame: '42["e"]', what: 'EVENT without args', expected: { kind: 'message', text: '{"name":"e","args":[]}', reply: undefined, event: { name: 'e', args: [] } } },
  {
    frame: '42["e",{"a":[1,2]},"x",null]',
    what: 'EVENT with several args',
    expected: { kind: 'message', text: '{"name":"e","args":[{"a":[1,2]},"x",null]}', reply: undefined, event: { name: 'e', args: [{ a: [1, 2] }, 'x', null] } },
  },
  { frame: '421["e",1]', what: 'EVENT with ack id 1', expected: { kind: 'message', text: '{"name":"e","args":[1]}', reply: ['431[]'], event: { name: 'e', args: [1] } } },
  { frame: '4217["e"]', what: 'EVENT with ack id 17', expected: { kind: 'message', text: '{"name":"e","args":[]}', reply: ['4317[]'], event: { name: 'e', args: [] } } },
  { frame: '42/,["e"]', what: 'EVENT on an explicit /', expected: { kind: 'message', text: '{"name":"e","args":[]}', reply: undefined, event: { name: 'e', args: [] } } },
  { frame: '42/admin,["e",1]', what: 'EVENT on another namespace', expected: ignored },
  { frame: '42/admin,3["e",1]', what: 'EVENT with ack id on another namespace', expected: ignored },
  { frame: '42["e",1', what: 'EVENT with malformed JSON', expected: malformed },
  { frame: '42{bad json', what: 'EVENT with garbage', expected: malformed },
  { frame: '42', what: 'EVENT without a payload', expected: malformed },
  { frame: '42"not-array"', what: 'EVENT whose payload is not an array', expected: malformed },
  { frame: '42{"name":"e"}', what: 'EVENT whose payload is an object', expected: malformed },
  { frame: '42[]', what: 'EVENT with an empty array', expected: malformed },
  { frame: '42[1,"e"]', what: 'EVENT whose first element is not a string', expected: malformed },
  { frame: '42[null]', what: 'EVENT whose first element is null', expected: malformed },
  { frame: '4299999999999999999999["e"]', what: 'EVENT with an ack id past 2^53', expected: malformed },
  { frame: '43[]', what: 'ACK', expected: ignored },
  { frame: '431["ok"]', what: 'ACK with an id', expected: ignored },
  { frame: '44"oops"', what: 'CONNECT_ERROR from a client', expected: malformed },
  { frame: '451-["e",{"_placeholder":true,"num":0}]', what: 'BINARY_EVENT', expected: unsupported },
  { frame: '461-[{"_placeholder":true,"num":0}]', what: 'BINARY_ACK', expected: unsupported },
  { frame: '47', what: 'an unknown Socket.IO type (7)', expected: malformed },
  { frame: '4x', what: 'a non-digit Socket.IO type', expected: malformed },
];

/**
 * Event names the clients reserve: socket.io-client 4.x closes the whole connection
 * with "parse error" on such an event (socket.io-parser's RESERVED_EVENTS), 2.x fires
 * its own listeners (a fake `disconnect`, `connect`, `error`); the reference server
 * refuses to emit them (socket.io 2.x and 4.x `Socket#emit` throw).
 */
const RESERVED_EVENT_NAMES = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener', 'error'];

/** A push and the frame it becomes; the same in both versions. */
const ENCODE_ROWS: Array<{ message: string; frame: string; what: string }> = [
  { message: '{"name":"E","args":[1,"x"]}', frame: '42["E",1,"x"]', what: '{name, args} becomes event E with its args' },
  { message: '{"name":"E","args":[]}', frame: '42["E"]', what: 'empty args: the event alone' },
  { message: '{"name":"E","args":[{"deep":[1,{"x":null}]}]}', frame: '42["E",{"deep":[1,{"x":null}]}]', what: 'nested args as they are' },
  { message: '{"args":[1],"name":"E","extra":true}', frame: '42["E",1]', what: 'key order and extra keys do not matter' },
  { message: '{"name":"E"}', frame: '42["message","{\\"name\\":\\"E\\"}"]', what: 'JSON without args is a plain message' },
  { message: '{"name":"E","args":"x"}', frame: '42["message","{\\"name\\":\\"E\\",\\"args\\":\\"x\\"}"]', what: 'args not an array is a plain message' },
  { message: '{"name":"E","args":{"0":1}}', frame: '42["message","{\\"name\\":\\"E\\",\\"args\\":{\\"0\\":1}}"]', what: 'args an object is a plain message' },
  { message: '{"name":1,"args":[]}', frame: '42["message","{\\"name\\":1,\\"args\\":[]}"]', what: 'a name that is not a string is a plain message' },
  { message: '{"x":1}', frame: '42["message","{\\"x\\":1}"]', what: 'other JSON objects are plain messages' },
  { message: '{not json', frame: '42["message","{not json"]', what: 'invalid JSON starting with { is a plain message' },
  { message: '{', frame: '42["message","{"]', what: 'a lone brace is a plain message' },
  { message: '[1,2]', frame: '42["message","[1,2]"]', what: 'a JSON array is a plain message' },
  { message: 'hello', frame: '42["message","hello"]', what: 'a plain string' },
  { message: '', frame: '42["message",""]', what: 'an empty string' },
  { message: ' {"name":"E","args":[]}', frame: '42["message"," {\\"name\\":\\"E\\",\\"args\\":[]}"]', what: 'leading space: not taken as an event' },
  { message: 'quote " backslash \\ line\nbreak é 😀', frame: `42${JSON.stringify(['message', 'quote " backslash \\ line\nbreak é 😀'])}`, what: 'escapes and non-ASCII' },
];

describe('socketIoProtocol', () => {
  for (const version of VERSIONS) {
    describe(`Engine.IO v${version}`, () => {
      const protocol = socketIoProtocol(version, SETTINGS, SID);

      it(`is named socket.io/eio${version}`, () => {
        expect(protocol.name).to.equal(`socket.io/eio${version}`);
      });

      describe('#greeting', () => {
        const frames = protocol.greeting('conn-1');

        it('starts with the Engine.IO open packet', () => {
          expect(frames[0]).to.match(/^0\{/);
          const open = JSON.parse(frames[0].slice(1));
          const expected: Record<string, unknown> = { sid: SID, upgrades: [], pingInterval: 25000, pingTimeout: 20000 };
          if (version === 4) expected.maxPayload = 65536;
          expect(open).to.deep.equal(expected);
        });

        if (version === 3) {
          it('also connects the / namespace (40): v3 clients wait for it', () => {
            expect(frames).to.deep.equal([frames[0], '40']);
          });
        } else {
          it('sends nothing but the open packet: the v4 client asks for the namespace', () => {
            expect(frames).to.have.length(1);
          });
        }

        it('announces the configured intervals', () => {
          const other = socketIoProtocol(version, { pingInterval: 100, pingTimeout: 50, maxPayload: 10 }, SID);
          const open = JSON.parse(other.greeting('c')[0].slice(1));
          expect(open).to.include({ pingInterval: 100, pingTimeout: 50 });
          if (version === 4) expect(open.maxPayload).to.equal(10);
          else expect(open).not.to.have.property('maxPayload');
        });

        it('gives every socket its own random sid by default', () => {
          const sid = (p: WireProtocol) => JSON.parse(p.greeting('c')[0].slice(1)).sid as string;
          const a = sid(socketIoProtocol(version, SETTINGS));
          const b = sid(socketIoProtocol(version, SETTINGS));
          expect(a).to.match(/^[A-Za-z0-9_-]{20}$/);
          expect(a).not.to.equal(b);
        });
      });

      describe('#ping', () => {
        it(version === 4 ? 'is the server writing 2 (the client answers 3)' : 'is left to the client (it writes 2, the server answers 3)', () => {
          expect(protocol.ping).to.deep.equal(version === 4 ? { frame: '2' } : 'client-pings');
        });
      });

      describe('#encode', () => {
        for (const row of ENCODE_ROWS) {
          it(`${row.what}: ${JSON.stringify(row.message)} -> ${row.frame}`, () => {
            expect(protocol.encode({ id: 'x', message: row.message })).to.equal(row.frame);
          });
        }

        it('sends {name, args} with a reserved event name as a plain message, never as that event', () => {
          for (const name of RESERVED_EVENT_NAMES) {
            const message = JSON.stringify({ name, args: ['x'] });
            expect(protocol.encode({ id: 'x', message: message }), name).to.equal(`42${JSON.stringify(['message', message])}`);
          }
        });

        it('writes frames that are EVENT packets a client parses back to the pushed args', () => {
          const frame = protocol.encode({ id: 'x', message: '{"name":"E","args":[1,"x",{"y":[true]}]}' });
          const inbound = decode(protocol, frame);
          expect(inbound).to.deep.equal({ kind: 'message', text: '{"name":"E","args":[1,"x",{"y":[true]}]}', reply: undefined, event: { name: 'E', args: [1, 'x', { y: [true] }] } });
        });
      });

      describe('#farewell', () => {
        it('sends the event session:invalid, then disconnects the / namespace', () => {
          expect(protocol.farewell('session-ended')).to.deep.equal(['42["session:invalid"]', '41']);
        });
      });

      describe('#decode Engine.IO packets', () => {
        for (const row of ENGINE_IO_ROWS.filter((r) => r.only === undefined || r.only === version)) {
          const expected = expectedFor(row, version);
          it(`${row.what}: ${JSON.stringify(row.frame)} -> ${describeInbound(expected)}`, () => {
            expectInbound(decode(protocol, row.frame), expected);
          });
        }

        it('refuses a binary frame with 1003', () => {
          expectInbound(decode(protocol, Buffer.from([0x04, 0x01, 0x02]), true), unsupported);
        });

        it('refuses a binary frame with 1003 even when it holds a valid text packet', () => {
          expectInbound(decode(protocol, Buffer.from('42["e"]'), true), unsupported);
        });
      });

      describe('#decode Socket.IO packets', () => {
        for (const row of SOCKET_IO_ROWS.filter((r) => r.only === undefined || r.only === version)) {
          const expected = expectedFor(row, version);
          it(`${row.what}: ${JSON.stringify(row.frame)} -> ${describeInbound(expected)}`, () => {
            expectInbound(decode(protocol, row.frame), expected);
          });
        }

        it('names what was wrong in the close reason', () => {
          const inbound = decode(protocol, '42"not-array"') as Extract<Inbound, { kind: 'violation' }>;
          expect(inbound.reason).to.match(/\["name", \.\.\.args\]/);
          const unknown = decode(protocol, '9') as Extract<Inbound, { kind: 'violation' }>;
          expect(unknown.reason).to.contain('"9"');
        });
      });
    });
  }

  describe('encodeEvent', () => {
    it('is what both versions use to encode', () => {
      const v3 = socketIoProtocol(3, SETTINGS, SID);
      const v4 = socketIoProtocol(4, SETTINGS, SID);
      for (const { message } of ENCODE_ROWS) {
        expect(v3.encode({ id: 'x', message })).to.equal(encodeEvent(message));
        expect(v4.encode({ id: 'x', message })).to.equal(encodeEvent(message));
      }
    });
  });
});

describe('selectProtocol', () => {
  describe('#speaksSocketIo', () => {
    const rows: Array<[string, boolean]> = [
      ['/socket.io', true],
      ['/app/socket.io', true],
      ['/ws', false],
      ['/socket.iox', false],
      ['/socket.io/x', false],
    ];
    for (const [prefix, expected] of rows) {
      it(`${prefix} -> ${expected}`, () => expect(speaksSocketIo(prefix)).to.equal(expected));
    }
  });

  it('speaks Engine.IO v4 on a Socket.IO prefix with EIO=4', () => {
    expect(selectProtocol('/socket.io', new URLSearchParams('EIO=4&transport=websocket'), SETTINGS).name).to.equal('socket.io/eio4');
  });

  it('speaks Engine.IO v3 on a Socket.IO prefix with EIO=3', () => {
    expect(selectProtocol('/socket.io', new URLSearchParams('EIO=3&transport=websocket'), SETTINGS).name).to.equal('socket.io/eio3');
  });

  it('speaks raw on /ws whatever the query says', () => {
    expect(selectProtocol('/ws', new URLSearchParams('EIO=3'), SETTINGS)).to.equal(rawProtocol);
  });

  it('passes the settings to the open packet', () => {
    const protocol = selectProtocol('/socket.io', new URLSearchParams('EIO=4'), { pingInterval: 7, pingTimeout: 8, maxPayload: 9 });
    expect(JSON.parse(protocol.greeting('c')[0].slice(1))).to.include({ pingInterval: 7, pingTimeout: 8, maxPayload: 9 });
  });
});

function describeInbound(inbound: Partial<Inbound>): string {
  switch (inbound.kind) {
    case 'violation':
      return `close ${(inbound as { closeCode: number }).closeCode}`;
    case 'reply': {
      const frames = (inbound as { frames: string[] }).frames;
      return frames.length === 0 ? 'ignored' : `reply ${frames.join(' ')}`;
    }
    case 'alive': {
      const reply = (inbound as { reply?: string[] }).reply;
      return reply ? `alive, reply ${reply.join(' ')}` : 'alive';
    }
    default: {
      const message = inbound as { text: string; reply?: string[] };
      return `message ${message.text}${message.reply ? `, reply ${message.reply.join(' ')}` : ''}`;
    }
  }
}
