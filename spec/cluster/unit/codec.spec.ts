import { expect } from 'chai';
import {
  decodeAnswer,
  decodeCommand,
  decodeQuestion,
  decodeReceipt,
  decodeDelivery,
  decodeEndConfirmation,
  decodePresence,
  decodePushes,
  decodeRegistry,
  decodeSession,
  decodeSync,
  encode,
  isSessionEnd,
  isSyncMarker,
  messageId,
  type CloseCommand,
  type DeliveryPayload,
  type PresencePayload,
  type PushIdsPayload,
  type QuestionPayload,
  type AnswerPayload,
  type ReceiptPayload,
  type RegistryPayload,
  type SessionEndPayload,
  type SessionPayload,
  type SyncMarker,
} from '../../../src/cluster/codec.ts';
import { CloseCode, REMOTE_CLOSE_CODES } from '../../../src/errors.ts';

const presence: PresencePayload = { v: 1, node: 'n1', epoch: 'e1', route: 'OX1', state: 'online', since: 1000, n: 3 };
const registry: RegistryPayload = { v: 1, sockets: [{ c: 'c1', p: '/ws/a', a: '10.0.0.1', t: 5 }] };
const delivery: DeliveryPayload = { v: 1, from: 'n1', at: 100, filter: null, p: [{ i: 'id1', m: 'hello' }, { i: 'id2', m: 'x', s: 'tok' }] };
const pushIds: PushIdsPayload = { v: 1, from: 'n1', at: 100, ids: ['a', 'b'] };
const marker: SyncMarker = { v: 1, sync: 'n1', n: 7 };
const command: CloseCommand = { v: 1, id: 'm1', from: 'n1', at: 100, type: 'close', ctx: 1, user: 3, filter: null, code: CloseCode.CLOSED_BY_ADMIN };
const record: SessionPayload = {
  v: 1,
  id: 'a'.repeat(32),
  secretHash: 'f'.repeat(64),
  contextId: 1,
  userId: 3,
  ip: '10.0.0.1',
  route: 'OX1',
  node: 'n1',
  createdAt: 10,
  expiresAt: 1000,
};
const tombstone: SessionEndPayload = { v: 1, id: 'a'.repeat(32), ended: 500, expiresAt: 1000 };

/** The object with one field replaced (or removed, with `undefined`), encoded. */
function variant(base: object, field: string, value: unknown): string {
  const copy: Record<string, unknown> = { ...base };
  if (value === undefined) delete copy[field];
  else copy[field] = value;
  return encode(copy);
}

/** Bodies every decoder must refuse: not JSON, not an object, no or another version. */
const NOT_A_BODY = ['', 'not json', '{', 'null', '1', '"v"', '[]', '[{"v":1}]', 'true'];

function refusesCommon(decode: (body: string) => unknown, valid: object): void {
  it('refuses non-JSON, non-object and array bodies without throwing', () => {
    for (const body of NOT_A_BODY) expect(decode(body), JSON.stringify(body)).to.equal(undefined);
  });

  it('refuses a wrong or missing version', () => {
    for (const v of [0, 2, '1', null, true, 1.5]) expect(decode(variant(valid, 'v', v)), `v=${JSON.stringify(v)}`).to.equal(undefined);
    expect(decode(variant(valid, 'v', undefined))).to.equal(undefined);
  });
}

describe('codec', () => {
  describe('encode', () => {
    it('is JSON.stringify: the decoders read back what it wrote', () => {
      expect(encode({ v: 1, a: [1, 'x'] })).to.equal('{"v":1,"a":[1,"x"]}');
    });
  });

  describe('messageId', () => {
    it('makes a different id on every call, at most 128 characters (what decodeDelivery accepts)', () => {
      const ids = new Set(Array.from({ length: 1000 }, () => messageId()));
      expect(ids.size).to.equal(1000);
      for (const id of ids) expect(id.length).to.be.within(1, 128);
    });
  });

  describe('decodePresence', () => {
    it('round-trips an online and an offline presence', () => {
      expect(decodePresence(encode(presence))).to.deep.equal(presence);
      const offline = { ...presence, state: 'offline' as const };
      expect(decodePresence(encode(offline))).to.deep.equal(offline);
    });

    refusesCommon(decodePresence, presence);

    it('reads a presence without a connection number (an older node) as connection 0, and refuses a bad one', () => {
      const { n: _n, ...older } = presence;
      expect(decodePresence(JSON.stringify(older))).to.deep.include({ n: 0 });
      for (const n of [-1, 1.5, '3', null, Number.MAX_SAFE_INTEGER + 1]) expect(decodePresence(variant(presence, 'n', n)), String(n)).to.equal(undefined);
    });

    it('refuses a state other than online or offline', () => {
      for (const state of ['suspect', 'ONLINE', '', 1, null]) expect(decodePresence(variant(presence, 'state', state)), String(state)).to.equal(undefined);
      expect(decodePresence(variant(presence, 'state', undefined))).to.equal(undefined);
    });

    it('refuses a missing or non-string node, epoch or route', () => {
      for (const field of ['node', 'epoch', 'route']) {
        expect(decodePresence(variant(presence, field, undefined)), `${field} missing`).to.equal(undefined);
        expect(decodePresence(variant(presence, field, 1)), `${field} number`).to.equal(undefined);
        expect(decodePresence(variant(presence, field, null)), `${field} null`).to.equal(undefined);
      }
    });

    it('refuses a since that is missing, negative, fractional, a string or unsafe', () => {
      for (const since of [undefined, -1, 1.5, '1000', Number.MAX_SAFE_INTEGER + 1, null]) expect(decodePresence(variant(presence, 'since', since)), String(since)).to.equal(undefined);
      expect(decodePresence(variant(presence, 'since', 0))).to.deep.include({ since: 0 });
    });
  });

  describe('decodeRegistry', () => {
    it('round-trips a list of sockets, and the empty list (no sockets left)', () => {
      expect(decodeRegistry(encode(registry))).to.deep.equal(registry);
      expect(decodeRegistry(encode({ v: 1, sockets: [] }))).to.deep.equal({ v: 1, sockets: [] });
    });

    refusesCommon(decodeRegistry, registry);

    it('refuses sockets that are missing or not an array', () => {
      for (const sockets of [undefined, null, {}, 'c1', 1]) expect(decodeRegistry(variant(registry, 'sockets', sockets)), String(sockets)).to.equal(undefined);
    });

    it('refuses the whole list when one socket is malformed', () => {
      const good = registry.sockets[0];
      const bad = [null, 0, 'c', [], { ...good, c: 1 }, { ...good, p: null }, { ...good, a: undefined }, { ...good, t: -1 }, { ...good, t: '5' }, { c: 'c', p: '/', a: 'x' }];
      for (const socket of bad) expect(decodeRegistry(encode({ v: 1, sockets: [good, socket] })), JSON.stringify(socket)).to.equal(undefined);
    });
  });

  describe('decodeDelivery', () => {
    it('round-trips items with and without a source token, and a path filter', () => {
      expect(decodeDelivery(encode(delivery))).to.deep.equal(delivery);
      const filtered = { ...delivery, filter: '/ws/*' };
      expect(decodeDelivery(encode(filtered))).to.deep.equal(filtered);
    });

    refusesCommon(decodeDelivery, delivery);

    it("decodes the sender's process (e) with its publish number (f), and refuses an e without f or not a string", () => {
      const numbered = { ...delivery, f: 4, e: 'epoch-1' };
      expect(decodeDelivery(encode(numbered))).to.deep.equal(numbered);
      expect(decodeDelivery(encode({ ...delivery, e: 'epoch-1' }))).to.equal(undefined);
      expect(decodeDelivery(encode({ ...delivery, f: 4, e: 5 }))).to.equal(undefined);
    });

    it('refuses a missing or non-string from, a bad at, a filter that is neither string nor null', () => {
      expect(decodeDelivery(variant(delivery, 'from', undefined))).to.equal(undefined);
      expect(decodeDelivery(variant(delivery, 'from', 7))).to.equal(undefined);
      for (const at of [undefined, -1, 0.5, '100']) expect(decodeDelivery(variant(delivery, 'at', at)), String(at)).to.equal(undefined);
      for (const filter of [undefined, 1, false, {}]) expect(decodeDelivery(variant(delivery, 'filter', filter)), String(filter)).to.equal(undefined);
    });

    it('refuses an empty, missing or non-array list of messages', () => {
      for (const p of [[], undefined, null, {}, 'x']) expect(decodeDelivery(variant(delivery, 'p', p)), JSON.stringify(p)).to.equal(undefined);
    });

    it('refuses an item without an id, with an empty or over-long id, a non-string message or source', () => {
      const bad = [null, 'x', { m: 'x' }, { i: '', m: 'x' }, { i: 'a'.repeat(129), m: 'x' }, { i: 5, m: 'x' }, { i: 'a', m: 5 }, { i: 'a' }, { i: 'a', m: 'x', s: 1 }, { i: 'a', m: 'x', s: null }];
      for (const item of bad) expect(decodeDelivery(encode({ ...delivery, p: [delivery.p[0], item] })), JSON.stringify(item)).to.equal(undefined);
    });

    it('accepts an id of exactly 128 characters', () => {
      const item = { i: 'a'.repeat(128), m: 'x' };
      expect(decodeDelivery(encode({ ...delivery, p: [item] }))?.p).to.deep.equal([item]);
    });
  });

  describe('decodePushes', () => {
    it('round-trips a push-ids announcement (the empty list included) and tells it from a marker', () => {
      const decoded = decodePushes(encode(pushIds));
      expect(decoded).to.deep.equal(pushIds);
      expect(isSyncMarker(decoded!)).to.equal(false);
      expect(decodePushes(encode({ ...pushIds, ids: [] }))).to.deep.equal({ ...pushIds, ids: [] });
    });

    it('decodes a barrier marker on the same topic', () => {
      const decoded = decodePushes(encode(marker));
      expect(decoded).to.deep.equal(marker);
      expect(isSyncMarker(decoded!)).to.equal(true);
    });

    refusesCommon(decodePushes, pushIds);

    it('refuses a bad from, at or ids', () => {
      expect(decodePushes(variant(pushIds, 'from', undefined))).to.equal(undefined);
      expect(decodePushes(variant(pushIds, 'at', -5))).to.equal(undefined);
      for (const ids of [undefined, 'a', [1], [''], ['a'.repeat(129)], [null]]) expect(decodePushes(variant(pushIds, 'ids', ids)), JSON.stringify(ids)).to.equal(undefined);
    });

    it('refuses a body with a sync field that is not a valid marker (it is never read as push ids)', () => {
      expect(decodePushes(encode({ ...pushIds, sync: 5 }))).to.equal(undefined);
      expect(decodePushes(encode({ ...pushIds, sync: null }))).to.equal(undefined);
      expect(decodePushes(encode({ v: 1, sync: 'n1', n: -1 }))).to.equal(undefined);
      expect(decodePushes(encode({ v: 1, sync: 'n1' }))).to.equal(undefined);
    });
  });

  describe('decodeEndConfirmation', () => {
    const confirmation = { v: 1 as const, confirms: 'ab12', by: 'n2' };
    it('round-trips a confirmation', () => {
      expect(decodeEndConfirmation(encode(confirmation))).to.deep.equal(confirmation);
    });

    refusesCommon(decodeEndConfirmation, confirmation);

    it('refuses a missing or non-string session id or node', () => {
      for (const value of [undefined, 1, null, {}]) {
        expect(decodeEndConfirmation(variant(confirmation, 'confirms', value)), String(value)).to.equal(undefined);
        expect(decodeEndConfirmation(variant(confirmation, 'by', value)), String(value)).to.equal(undefined);
      }
    });
  });

  describe('decodeSync', () => {
    it('round-trips a marker, n = 0 included', () => {
      expect(decodeSync(encode(marker))).to.deep.equal(marker);
      expect(decodeSync(encode({ ...marker, n: 0 }))).to.deep.equal({ ...marker, n: 0 });
    });

    refusesCommon(decodeSync, marker);

    it('refuses a missing or non-string sync, and an n that is missing, negative, fractional or a string', () => {
      for (const sync of [undefined, 1, null]) expect(decodeSync(variant(marker, 'sync', sync)), String(sync)).to.equal(undefined);
      for (const n of [undefined, -1, 1.5, '7', null]) expect(decodeSync(variant(marker, 'n', n)), String(n)).to.equal(undefined);
    });
  });

  describe('decodeCommand', () => {
    it('round-trips a close command with each accepted code and with a path filter', () => {
      expect(decodeCommand(encode(command))).to.deep.equal(command);
      const ended = { ...command, code: CloseCode.SESSION_ENDED, filter: '/ws/*' };
      expect(decodeCommand(encode(ended))).to.deep.equal(ended);
    });

    refusesCommon(decodeCommand, command);

    it('accepts exactly the codes of REMOTE_CLOSE_CODES (4403 and 4401)', () => {
      expect([...REMOTE_CLOSE_CODES].sort()).to.deep.equal([4401, 4403]);
      for (const code of REMOTE_CLOSE_CODES) expect((decodeCommand(variant(command, 'code', code)) as CloseCommand | undefined)?.code).to.equal(code);
    });

    it("decodes an application session's end, and refuses one without a session or with an overlong one", () => {
      const end = { v: 1, id: 'x1', from: 'n1', at: Date.now(), type: 'end-session', session: 'app:s-1' };
      expect(decodeCommand(JSON.stringify(end))).to.deep.equal(end);
      expect(decodeCommand(JSON.stringify({ ...end, session: 7 }))).to.equal(undefined);
      expect(decodeCommand(JSON.stringify({ ...end, session: undefined }))).to.equal(undefined);
      expect(decodeCommand(JSON.stringify({ ...end, session: 'x'.repeat(301) }))).to.equal(undefined);
      expect(decodeCommand(JSON.stringify({ ...end, type: 'reboot' }))).to.equal(undefined);
    });

    it('refuses every other close code: 1005, 999, 0, 70000, 4000, 1000, 1001, 4400, -4403', () => {
      for (const code of [1005, 999, 0, 70000, 4000, 1000, 1001, 4400, -4403]) expect(decodeCommand(variant(command, 'code', code)), String(code)).to.equal(undefined);
    });

    it("refuses a code of the wrong type or shape: '4403' as a string, 4403.5, null, missing, an array", () => {
      for (const code of ['4403', 4403.5, null, undefined, [4403], true]) expect(decodeCommand(variant(command, 'code', code)), JSON.stringify(code)).to.equal(undefined);
    });

    it('refuses a type other than close', () => {
      for (const type of ['open', 'CLOSE', undefined, 1]) expect(decodeCommand(variant(command, 'type', type)), String(type)).to.equal(undefined);
    });

    it('refuses a bad id, from, at, ctx, user or filter', () => {
      expect(decodeCommand(variant(command, 'id', undefined))).to.equal(undefined);
      expect(decodeCommand(variant(command, 'id', 5))).to.equal(undefined);
      expect(decodeCommand(variant(command, 'from', null))).to.equal(undefined);
      expect(decodeCommand(variant(command, 'at', -1))).to.equal(undefined);
      for (const field of ['ctx', 'user']) {
        for (const id of [0, -1, 1.5, '1', undefined, Number.MAX_SAFE_INTEGER + 1]) expect(decodeCommand(variant(command, field, id)), `${field}=${id}`).to.equal(undefined);
      }
      for (const filter of [undefined, 5, {}]) expect(decodeCommand(variant(command, 'filter', filter)), String(filter)).to.equal(undefined);
    });
  });

  describe('decodeSession', () => {
    it('round-trips a session record and tells it from a tombstone', () => {
      const decoded = decodeSession(encode(record));
      expect(decoded).to.deep.equal(record);
      expect(isSessionEnd(decoded!)).to.equal(false);
    });

    it('round-trips a tombstone', () => {
      const decoded = decodeSession(encode(tombstone));
      expect(decoded).to.deep.equal(tombstone);
      expect(isSessionEnd(decoded!)).to.equal(true);
    });

    refusesCommon(decodeSession, record);

    it('refuses a record or tombstone without a string id or a valid expiresAt', () => {
      for (const base of [record, tombstone]) {
        expect(decodeSession(variant(base, 'id', undefined))).to.equal(undefined);
        expect(decodeSession(variant(base, 'id', 1))).to.equal(undefined);
        for (const at of [undefined, -1, 1.5, '1000']) expect(decodeSession(variant(base, 'expiresAt', at)), String(at)).to.equal(undefined);
      }
    });

    it('refuses a tombstone whose ended is not a time (null, negative, a string)', () => {
      for (const ended of [null, -1, '500', 0.5]) expect(decodeSession(variant(tombstone, 'ended', ended)), String(ended)).to.equal(undefined);
    });

    it('refuses a secretHash that is not 64 lowercase hex characters', () => {
      for (const hash of [undefined, 'f'.repeat(63), 'f'.repeat(65), 'F'.repeat(64), 'g'.repeat(64), 5]) expect(decodeSession(variant(record, 'secretHash', hash)), String(hash)).to.equal(undefined);
    });

    it('refuses a bad contextId or userId (zero, negative, fractional, string)', () => {
      for (const field of ['contextId', 'userId']) {
        for (const id of [undefined, 0, -3, 1.5, '3']) expect(decodeSession(variant(record, field, id)), `${field}=${id}`).to.equal(undefined);
      }
    });

    it('refuses a missing or non-string ip, route or node, and a bad createdAt', () => {
      for (const field of ['ip', 'route', 'node']) {
        expect(decodeSession(variant(record, field, undefined)), field).to.equal(undefined);
        expect(decodeSession(variant(record, field, 1)), field).to.equal(undefined);
      }
      for (const at of [undefined, -1, '10']) expect(decodeSession(variant(record, 'createdAt', at)), String(at)).to.equal(undefined);
    });
  });

  describe('decodeQuestion', () => {
    const question: QuestionPayload = { v: 1, id: 'q1', from: 'n1', at: 100, ttl: 2000, kind: 'trace', body: { id: 'm1' } };
    refusesCommon(decodeQuestion, question);

    it('decodes a question with any JSON body, null included', () => {
      expect(decodeQuestion(encode(question))).to.deep.equal(question);
      expect(decodeQuestion(variant(question, 'body', null))).to.deep.equal({ ...question, body: null });
    });

    it('refuses a missing body, a bad kind, id, from, at or ttl', () => {
      expect(decodeQuestion(variant(question, 'body', undefined))).to.equal(undefined);
      for (const kind of [undefined, '', 'Trace', '1x', 'a/b', 'x'.repeat(65), 3]) expect(decodeQuestion(variant(question, 'kind', kind)), String(kind)).to.equal(undefined);
      for (const [field, value] of [['id', ''], ['id', 'x'.repeat(129)], ['from', 1], ['at', -1], ['ttl', '5'], ['ttl', undefined]] as const)
        expect(decodeQuestion(variant(question, field, value)), `${field}=${value}`).to.equal(undefined);
    });

    it('decodes the nodes a question is for, and refuses a `to` that is not a list of ids', () => {
      expect(decodeQuestion(variant(question, 'to', ['n2', 'n3']))?.to).to.deep.equal(['n2', 'n3']);
      for (const to of ['n2', [1], null, {}]) expect(decodeQuestion(variant(question, 'to', to)), JSON.stringify(to)).to.equal(undefined);
    });
  });

  describe('decodeReceipt', () => {
    const receipt: ReceiptPayload = { v: 1, from: 'b', e: 'epoch-1', f: [1, 2, 9] };
    refusesCommon(decodeReceipt, receipt);

    it('round-trips a receipt', () => {
      expect(decodeReceipt(encode(receipt))).to.deep.equal(receipt);
    });

    it('refuses a bad from or epoch, and publish numbers that are not a non-empty list of positive integers', () => {
      for (const [field, value] of [
        ['from', 3],
        ['from', undefined],
        ['e', null],
        ['e', undefined],
        ['f', []],
        ['f', [0]],
        ['f', [1.5]],
        ['f', ['1']],
        ['f', 7],
        ['f', undefined],
      ] as Array<[string, unknown]>)
        expect(decodeReceipt(variant(receipt, field, value)), `${field}=${JSON.stringify(value)}`).to.equal(undefined);
    });
  });

  describe('decodeAnswer', () => {
    const answer: AnswerPayload = { v: 1, id: 'q1', from: 'n2', body: { found: true } };
    refusesCommon(decodeAnswer, answer);

    it('decodes an answer with a body, or with an error', () => {
      expect(decodeAnswer(encode(answer))).to.deep.equal(answer);
      expect(decodeAnswer(encode({ v: 1, id: 'q1', from: 'n2', error: 'unknown-kind' }))).to.deep.equal({ v: 1, id: 'q1', from: 'n2', error: 'unknown-kind' });
    });

    it('refuses a bad id, from or error', () => {
      for (const [field, value] of [['id', undefined], ['from', 5], ['error', 5]] as const) expect(decodeAnswer(variant(answer, field, value)), `${field}=${value}`).to.equal(undefined);
    });
  });
});
