import { expect } from 'chai';
import { hashPassword } from '../../src/directory/password.ts';
import { AccountsError, NO_ACCOUNTS, parseAccounts, type Account } from '../../src/mqtt/accounts.ts';

const SOURCE = 'config/accounts.json';
/** The clear password the hash is of; neither may ever show in an error. */
const CLEAR = 'thermo-secret-17';

type Json = Record<string, unknown>;

describe('mqtt accounts', () => {
  let hash: string;
  before(async () => {
    hash = await hashPassword(CLEAR);
  });

  /** One account of each kind, with a real hash. */
  function valid(): { accounts: Json[] } {
    return {
      accounts: [
        { id: 'thermo-17', kind: 'device', password: hash, context: 1, users: [3, 4] },
        { id: 'mail-backend', kind: 'backend', password: hash },
        { id: 'node-2', kind: 'node', password: hash },
      ],
    };
  }

  function parse(json: unknown): ReturnType<typeof parseAccounts> {
    return parseAccounts(JSON.stringify(json), SOURCE);
  }

  /** The AccountsError parsing `text` throws; fails the test when it parses. */
  function failure(text: string): AccountsError {
    try {
      parseAccounts(text, SOURCE);
    } catch (err) {
      expect(err).to.be.instanceOf(AccountsError);
      return err as AccountsError;
    }
    return expect.fail(`parsed: ${text}`);
  }

  /** Every error: no password and no hash, nor any piece of the hash's salt or key. */
  function expectNoSecret(error: AccountsError): void {
    expect(error.message).not.to.contain(CLEAR);
    expect(error.message).not.to.contain('thermo-secret');
    for (const part of hash.split('$').slice(4)) expect(error.message).not.to.contain(part);
    expect(error.message).not.to.contain('scrypt$');
    // Nothing hangs off the error either (a logger prints causes).
    expect(error.cause).to.equal(undefined);
  }

  describe('#parseAccounts', () => {
    it('reads an account of each kind, keyed by id, with its source', () => {
      const accounts = parse(valid());
      expect(accounts.source).to.equal(SOURCE);
      expect([...accounts.byId.keys()]).to.deep.equal(['thermo-17', 'mail-backend', 'node-2']);
      expect(accounts.byId.get('thermo-17')).to.deep.equal({ id: 'thermo-17', kind: 'device', password: hash, context: 1, users: [3, 4] } satisfies Account);
      expect(accounts.byId.get('mail-backend')).to.deep.equal({ id: 'mail-backend', kind: 'backend', password: hash });
      expect(accounts.byId.get('node-2')).to.deep.equal({ id: 'node-2', kind: 'node', password: hash });
    });

    it('reads an empty list as no accounts', () => {
      expect(parse({ accounts: [] }).byId.size).to.equal(0);
      expect(NO_ACCOUNTS.byId.size).to.equal(0);
    });

    it('accepts users "*" for every user of the device\'s context', () => {
      const json = valid();
      json.accounts[0].users = '*';
      expect(parse(json).byId.get('thermo-17')?.users).to.equal('*');
    });

    it("drops a device's repeated user ids, keeping the first order", () => {
      const json = valid();
      json.accounts[0].users = [4, 3, 4, 3];
      expect(parse(json).byId.get('thermo-17')?.users).to.deep.equal([4, 3]);
    });

    it('accepts the largest safe integer as a context and a user id', () => {
      const json = valid();
      json.accounts[0].context = Number.MAX_SAFE_INTEGER;
      json.accounts[0].users = [Number.MAX_SAFE_INTEGER];
      const device = parse(json).byId.get('thermo-17');
      expect([device?.context, device?.users]).to.deep.equal([Number.MAX_SAFE_INTEGER, [Number.MAX_SAFE_INTEGER]]);
    });

    it('accepts ids of every allowed character, up to 64 of them', () => {
      const json = { accounts: [{ id: 'A-z_0.9', kind: 'node', password: hash }, { id: 'x'.repeat(64), kind: 'backend', password: hash }] };
      expect([...parse(json).byId.keys()]).to.deep.equal(['A-z_0.9', 'x'.repeat(64)]);
    });

    it('accepts a byte order mark before the JSON (some editors save one)', () => {
      const accounts = parseAccounts(`\ufeff${JSON.stringify(valid())}`, SOURCE);
      expect(accounts.byId.size).to.equal(3);
    });

    it('accepts the file pretty-printed, with CRLF line ends', () => {
      const text = JSON.stringify(valid(), null, 2).replace(/\n/g, '\r\n');
      expect(parseAccounts(text, SOURCE).byId.size).to.equal(3);
    });
  });

  describe('#parseAccounts on a file that is not JSON', () => {
    /** Where the error points; some columns depend on the length of the hash before them. */
    type At = string | (() => string);
    const CASES: Array<{ what: string; text: () => string; location: At; says: string }> = [
      { what: 'the file is empty', text: () => '', location: 'line 1, column 1', says: 'the text ends too early' },
      { what: 'the file holds only a byte order mark', text: () => '\ufeff', location: 'line 1, column 1', says: 'ends too early' },
      { what: 'the file is cut short', text: () => '{"accounts": [\n', location: 'line 2, column 1', says: 'ends too early' },
      { what: 'a password is written without quotes', text: () => `{"accounts": [\n  {"id": "x", "kind": "node", "password": ${CLEAR}}\n]}`, location: 'line 2, column 43', says: 'a "string" in double quotes' },
      { what: 'a password is in single quotes', text: () => `{"accounts": [{"id": "x", "kind": "node", "password": '${CLEAR}'}]}`, location: 'line 1, column 55', says: 'double quotes' },
      { what: 'an account ends with a trailing comma', text: () => `{"accounts": [{"id": "x", "password": "${hash}",}]}`, location: () => `line 1, column ${42 + hash.length}`, says: 'no trailing comma' },
      { what: 'the list ends with a trailing comma', text: () => `{"accounts": [{"id": "x", "password": "${hash}"},]}`, location: () => `line 1, column ${43 + hash.length}`, says: 'trailing comma before "]"' },
      { what: 'a comma is missing', text: () => `{"accounts": [{"password": "${hash}" "id": "x"}]}`, location: () => `line 1, column ${31 + hash.length}`, says: 'expected "," or "}"' },
      { what: 'there is text after the object', text: () => `{"accounts": []}\n${CLEAR}`, location: 'line 2, column 1', says: 'more text after the JSON value' },
      { what: 'a string holds a raw tab', text: () => `{"accounts": [{"password": "${CLEAR}\t"}]}`, location: `line 1, column ${29 + CLEAR.length}`, says: 'escape like \\n or \\t' },
      { what: 'a string has a bad escape', text: () => `{"accounts": [{"password": "${CLEAR}\\q"}]}`, location: `line 1, column ${29 + CLEAR.length}`, says: 'a bad escape' },
    ];

    for (const { what, text, location: at, says } of CASES) {
      it(`names the line and column when ${what}, without quoting the text`, () => {
        const location = typeof at === 'string' ? at : at();
        const error = failure(text());
        expect(error.location).to.equal(location);
        expect(error.message).to.equal(`${SOURCE}: ${location}: ${error.message.slice(`${SOURCE}: ${location}: `.length)}`);
        expect(error.message).to.contain('is not valid JSON').and.to.contain(says);
        expectNoSecret(error);
      });
    }
  });

  describe('#parseAccounts on JSON that is not an accounts file', () => {
    type Mutation = (d: { accounts: Json[] } & Json) => void;
    const device = (d: { accounts: Json[] }) => d.accounts[0];
    const backend = (d: { accounts: Json[] }) => d.accounts[1];
    const node = (d: { accounts: Json[] }) => d.accounts[2];

    /** Each invalid file: how it is made from a valid one, where the error points, what it says to do. */
    const INVALID: Array<{ what: string; mutate: Mutation; location: string; says: string }> = [
      // the root
      { what: 'accounts is missing', mutate: (d) => void delete (d as Json).accounts, location: '', says: 'must be a JSON object {"accounts": [...]}' },
      { what: 'there is an unknown top-level key', mutate: (d) => void (d.devices = []), location: 'devices', says: 'unknown key; the file holds only "accounts"' },
      { what: 'an account is not an object', mutate: (d) => void ((d.accounts as unknown[])[1] = 'mail-backend'), location: 'accounts[1]', says: 'an account must be an object like' },
      { what: 'an account is an array', mutate: (d) => void ((d.accounts as unknown[])[2] = []), location: 'accounts[2]', says: 'an account must be an object' },
      // id
      { what: 'an id is missing', mutate: (d) => void delete node(d).id, location: 'accounts[2].id', says: 'it is the MQTT user name' },
      { what: 'an id is a number', mutate: (d) => void (node(d).id = 2), location: 'accounts[2].id', says: 'must match' },
      { what: 'an id is empty', mutate: (d) => void (node(d).id = ''), location: 'accounts[2].id', says: 'must match' },
      { what: 'an id has a slash', mutate: (d) => void (node(d).id = 'node/2'), location: 'accounts[2].id', says: 'must match' },
      { what: 'an id has a space', mutate: (d) => void (node(d).id = 'node 2'), location: 'accounts[2].id', says: 'must match' },
      { what: 'an id is a wildcard', mutate: (d) => void (node(d).id = '#'), location: 'accounts[2].id', says: 'must match' },
      { what: 'an id is longer than 64', mutate: (d) => void (node(d).id = 'x'.repeat(65)), location: 'accounts[2].id', says: 'must match' },
      { what: 'two accounts share an id', mutate: (d) => void (node(d).id = 'thermo-17'), location: 'accounts[2].id', says: 'the id "thermo-17" is used twice; give each account its own' },
      // kind
      { what: 'a kind is missing', mutate: (d) => void delete backend(d).kind, location: 'accounts[1].kind', says: 'must be one of node, device, backend' },
      { what: 'a kind is unknown', mutate: (d) => void (backend(d).kind = 'admin'), location: 'accounts[1].kind', says: 'must be one of node, device, backend' },
      { what: 'a kind is in capitals', mutate: (d) => void (backend(d).kind = 'Backend'), location: 'accounts[1].kind', says: 'must be one of' },
      // unknown keys, per kind
      { what: 'a node account has a context', mutate: (d) => void (node(d).context = 1), location: 'accounts[2].context', says: 'unknown key for a node account; allowed: id, kind, password' },
      { what: 'a backend account has users', mutate: (d) => void (backend(d).users = [3]), location: 'accounts[1].users', says: 'unknown key for a backend account' },
      { what: 'a device account has a misspelt key', mutate: (d) => void (device(d).user = [3]), location: 'accounts[0].user', says: 'allowed: id, kind, password, context, users' },
      { what: 'an account has a "hash" key', mutate: (d) => void (node(d).hash = 'x'), location: 'accounts[2].hash', says: 'unknown key' },
      // password
      { what: 'a password is missing', mutate: (d) => void delete node(d).password, location: 'accounts[2].password', says: 'store the output of "wsmesh hash-password"' },
      { what: 'a password is in clear', mutate: (d) => void (node(d).password = CLEAR), location: 'accounts[2].password', says: 'never a clear password' },
      { what: 'a password is a clear password starting with "scrypt$"', mutate: (d) => void (node(d).password = `scrypt$${CLEAR}`), location: 'accounts[2].password', says: 'is not a password hash' },
      { what: 'a password hash is cut in the middle of its base64', mutate: (d) => void (device(d).password = hash.slice(0, -13)), location: 'accounts[0].password', says: 'is not a password hash' },
      { what: 'a password is a number', mutate: (d) => void (backend(d).password = 1234), location: 'accounts[1].password', says: 'is not a password hash' },
      // a device's context
      { what: 'a device has no context', mutate: (d) => void delete device(d).context, location: 'accounts[0].context', says: 'a device needs its context id, a positive integer' },
      { what: 'a device context is a string', mutate: (d) => void (device(d).context = '1'), location: 'accounts[0].context', says: 'positive integer' },
      { what: 'a device context is 0', mutate: (d) => void (device(d).context = 0), location: 'accounts[0].context', says: 'positive integer' },
      { what: 'a device context is negative', mutate: (d) => void (device(d).context = -1), location: 'accounts[0].context', says: 'positive integer' },
      { what: 'a device context is fractional', mutate: (d) => void (device(d).context = 1.5), location: 'accounts[0].context', says: 'positive integer' },
      { what: 'a device context is 2^53', mutate: (d) => void (device(d).context = 2 ** 53), location: 'accounts[0].context', says: 'at most 9007199254740991' },
      // a device's users
      { what: 'a device has no users', mutate: (d) => void delete device(d).users, location: 'accounts[0].users', says: 'a device needs "users": a non-empty list of user ids of its context, or "*"' },
      { what: 'a device has an empty users list', mutate: (d) => void (device(d).users = []), location: 'accounts[0].users', says: 'a non-empty list' },
      { what: 'a device has users "all"', mutate: (d) => void (device(d).users = 'all'), location: 'accounts[0].users', says: 'or "*" for all of them' },
      { what: 'a device has users ["*"]', mutate: (d) => void (device(d).users = ['*']), location: 'accounts[0].users[0]', says: 'a user id is a positive integer' },
      { what: 'a device has users as an object', mutate: (d) => void (device(d).users = { 3: true }), location: 'accounts[0].users', says: 'a non-empty list' },
      { what: 'a device user id is a string', mutate: (d) => void (device(d).users = [3, '4']), location: 'accounts[0].users[1]', says: 'a user id is a positive integer' },
      { what: 'a device user id is fractional', mutate: (d) => void (device(d).users = [3.5]), location: 'accounts[0].users[0]', says: 'positive integer' },
      { what: 'a device user id is 0', mutate: (d) => void (device(d).users = [3, 4, 0]), location: 'accounts[0].users[2]', says: 'positive integer' },
      { what: 'a device user id is negative', mutate: (d) => void (device(d).users = [-3]), location: 'accounts[0].users[0]', says: 'positive integer' },
      { what: 'a device user id is null', mutate: (d) => void (device(d).users = [null]), location: 'accounts[0].users[0]', says: 'positive integer' },
      { what: 'a device user id is beyond safe integers', mutate: (d) => void (device(d).users = [2 ** 53 + 2]), location: 'accounts[0].users[0]', says: 'at most 9007199254740991' },
    ];

    for (const { what, mutate, location, says } of INVALID) {
      it(`names ${location || 'the file'} when ${what}`, () => {
        const json = valid() as { accounts: Json[] } & Json;
        mutate(json);
        const error = failure(JSON.stringify(json));
        expect(error.source).to.equal(SOURCE);
        expect(error.location).to.equal(location);
        expect(error.message).to.satisfy((m: string) => m.startsWith(location ? `${SOURCE}: ${location}: ` : `${SOURCE}: `));
        expect(error.message).to.contain(says);
        expectNoSecret(error);
      });
    }

    it('refuses a root that is not an object whatever it is', () => {
      for (const text of ['[]', 'null', '"accounts"', '42', '{"accounts": {}}', '{"accounts": null}', '{}']) {
        const error = failure(text);
        expect(error.location, text).to.equal('');
        expect(error.message, text).to.equal(`${SOURCE}: must be a JSON object {"accounts": [...]}`);
      }
    });

    // 9007199254740993 is 2^53 + 1: JSON.parse reads it as 2^53, a 16-digit number
    // that the digit pattern alone accepted, so the device got another context.
    it('refuses a 16-digit id that JSON.parse rounds, rather than grant the rounded one', () => {
      const text = JSON.stringify(valid()).replace('"context":1', '"context":9007199254740993');
      expect(text).to.contain('9007199254740993');
      expect(failure(text).location).to.equal('accounts[0].context');
      const users = JSON.stringify(valid()).replace('"users":[3,4]', '"users":[3,9007199254740993]');
      expect(failure(users).location).to.equal('accounts[0].users[1]');
    });

    it('reports the first problem in file order', () => {
      const json = valid();
      json.accounts[1].password = CLEAR;
      json.accounts[2].kind = 'admin';
      expect(failure(JSON.stringify(json)).location).to.equal('accounts[1].password');
    });
  });
});
