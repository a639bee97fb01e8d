import { expect } from 'chai';
import { Directory, DirectoryError, loadDirectory } from '../../src/directory/directory.ts';
import { HASH, TempDir, validDirectory, type DirectoryJson } from './fixtures.ts';

type Mutation = (d: DirectoryJson) => void;

const contexts = (d: DirectoryJson) => d.contexts as Array<Record<string, unknown>>;
const sets = (d: DirectoryJson) => d.contextSets as Array<Record<string, unknown>>;
const users = (d: DirectoryJson) => d.users as Array<Record<string, unknown>>;

/** Each invalid directory: how it is made from a valid one, where the error points, what it says. */
const INVALID: Array<{ what: string; mutate: Mutation; location: string; says: string }> = [
  // the root
  { what: 'an unknown top-level property', mutate: (d) => void (d.user = []), location: 'user', says: 'unknown property' },
  { what: 'contexts is not an array', mutate: (d) => void (d.contexts = {}), location: 'contexts', says: 'must be an array, got an object' },
  { what: 'contextSets is not an array', mutate: (d) => void (d.contextSets = 'eu'), location: 'contextSets', says: 'must be an array' },
  { what: 'users is not an array', mutate: (d) => void (d.users = null), location: 'users', says: 'must be an array, got null' },
  // contexts
  { what: 'a context is not an object', mutate: (d) => void ((d.contexts as unknown[])[1] = 2), location: 'contexts[1]', says: 'a context must be an object' },
  { what: 'a context is an array', mutate: (d) => void ((d.contexts as unknown[])[0] = []), location: 'contexts[0]', says: 'got an array' },
  { what: 'a context has an unknown property', mutate: (d) => void (contexts(d)[0].enabeld = true), location: 'contexts[0].enabeld', says: 'check the spelling' },
  { what: 'a context id is missing', mutate: (d) => void delete contexts(d)[1].id, location: 'contexts[1].id', says: 'is required' },
  { what: 'a context id is a string', mutate: (d) => void (contexts(d)[1].id = '2'), location: 'contexts[1].id', says: 'must be a positive integer, got "2"' },
  { what: 'a context id is zero', mutate: (d) => void (contexts(d)[1].id = 0), location: 'contexts[1].id', says: 'got 0' },
  { what: 'a context id is negative', mutate: (d) => void (contexts(d)[1].id = -1), location: 'contexts[1].id', says: 'positive integer' },
  { what: 'a context id is fractional', mutate: (d) => void (contexts(d)[1].id = 1.5), location: 'contexts[1].id', says: 'got 1.5' },
  { what: 'a context id is beyond safe integers', mutate: (d) => void (contexts(d)[1].id = 2 ** 53), location: 'contexts[1].id', says: 'positive integer' },
  { what: 'two contexts share an id', mutate: (d) => void (contexts(d)[2].id = 1), location: 'contexts[2].id', says: 'context id 1 is already used by contexts[0]' },
  { what: 'a context name is missing', mutate: (d) => void delete contexts(d)[0].name, location: 'contexts[0].name', says: 'is required' },
  { what: 'a context name is empty', mutate: (d) => void (contexts(d)[0].name = ''), location: 'contexts[0].name', says: 'non-empty string' },
  { what: 'a context name is a number', mutate: (d) => void (contexts(d)[0].name = 1), location: 'contexts[0].name', says: 'got 1' },
  { what: 'a context name contains "@"', mutate: (d) => void (contexts(d)[0].name = 'de@mo'), location: 'contexts[0].name', says: 'contains "@"' },
  { what: 'two contexts share a name', mutate: (d) => void (contexts(d)[1].name = 'demo'), location: 'contexts[1].name', says: 'context name "demo" is already used by contexts[0]' },
  { what: 'context tags are a string', mutate: (d) => void (contexts(d)[0].tags = 'eu'), location: 'contexts[0].tags', says: 'must be an array of strings' },
  { what: 'a context tag is a number', mutate: (d) => void (contexts(d)[0].tags = ['eu', 5]), location: 'contexts[0].tags[1]', says: 'non-empty string, got 5' },
  { what: 'a context tag is empty', mutate: (d) => void (contexts(d)[0].tags = ['']), location: 'contexts[0].tags[0]', says: 'non-empty string' },
  { what: 'context enabled is a string', mutate: (d) => void (contexts(d)[0].enabled = 'yes'), location: 'contexts[0].enabled', says: 'must be true or false, got "yes"' },
  { what: 'a context config is an array', mutate: (d) => void (contexts(d)[0].config = []), location: 'contexts[0].config', says: 'config must be an object' },
  { what: 'a context config is null', mutate: (d) => void (contexts(d)[0].config = null), location: 'contexts[0].config', says: 'got null' },
  { what: 'a context sets websockets.enabled to a string', mutate: (d) => void (contexts(d)[0].config = { 'websockets.enabled': 'false' }), location: 'contexts[0].config["websockets.enabled"]', says: 'must be a boolean, got "false"' },
  { what: 'a context sets websockets.enabled to null', mutate: (d) => void (contexts(d)[0].config = { 'websockets.enabled': null }), location: 'contexts[0].config["websockets.enabled"]', says: 'got null' },
  // context sets
  { what: 'a context set is not an object', mutate: (d) => void ((d.contextSets as unknown[])[0] = 'eu'), location: 'contextSets[0]', says: 'a context set must be an object' },
  { what: 'a context set has an unknown property', mutate: (d) => void (sets(d)[1].tags = ['eu']), location: 'contextSets[1].tags', says: 'unknown property' },
  { what: 'a context set name is missing', mutate: (d) => void delete sets(d)[1].name, location: 'contextSets[1].name', says: 'is required' },
  { what: 'two context sets share a name', mutate: (d) => void (sets(d)[2].name = 'eu'), location: 'contextSets[2].name', says: 'context set name "eu" is already used by contextSets[1]' },
  { what: 'a context set has no withTags', mutate: (d) => void delete sets(d)[1].withTags, location: 'contextSets[1].withTags', says: 'is required' },
  { what: 'a context set withTags is a string', mutate: (d) => void (sets(d)[1].withTags = 'eu'), location: 'contextSets[1].withTags', says: 'array of strings' },
  { what: 'a context set tag is not a string', mutate: (d) => void (sets(d)[1].withTags = [null]), location: 'contextSets[1].withTags[0]', says: 'got null' },
  { what: 'a context set config is a string', mutate: (d) => void (sets(d)[1].config = 'x'), location: 'contextSets[1].config', says: 'config must be an object' },
  { what: 'a context set sets websockets.enabled to 0', mutate: (d) => void (sets(d)[1].config = { 'websockets.enabled': 0 }), location: 'contextSets[1].config["websockets.enabled"]', says: 'must be a boolean, got 0' },
  // users
  { what: 'a user is not an object', mutate: (d) => void ((d.users as unknown[])[2] = 'bob'), location: 'users[2]', says: 'a user must be an object' },
  { what: 'a user has an unknown property', mutate: (d) => void (users(d)[0].name = 'Alice'), location: 'users[0].name', says: 'unknown property' },
  { what: 'a user id is missing', mutate: (d) => void delete users(d)[0].id, location: 'users[0].id', says: 'is required' },
  { what: 'a user id is a string', mutate: (d) => void (users(d)[0].id = 'x'), location: 'users[0].id', says: 'positive integer, got "x"' },
  { what: 'a user context is missing', mutate: (d) => void delete users(d)[1].context, location: 'users[1].context', says: 'is required' },
  { what: 'a user context is a string', mutate: (d) => void (users(d)[1].context = 'demo'), location: 'users[1].context', says: 'positive integer, got "demo"' },
  { what: 'a user context does not exist', mutate: (d) => void (users(d)[2].context = 9), location: 'users[2].context', says: 'no context has id 9' },
  { what: 'a user login is missing', mutate: (d) => void delete users(d)[0].login, location: 'users[0].login', says: 'is required' },
  { what: 'a user login is empty', mutate: (d) => void (users(d)[0].login = ''), location: 'users[0].login', says: 'non-empty string' },
  { what: 'a user login has surrounding spaces', mutate: (d) => void (users(d)[0].login = 'alice '), location: 'users[0].login', says: 'whitespace' },
  { what: 'a user password is missing', mutate: (d) => void delete users(d)[0].password, location: 'users[0].password', says: 'is required' },
  { what: 'a user password is a number', mutate: (d) => void (users(d)[0].password = 1234), location: 'users[0].password', says: 'is not a scrypt hash' },
  { what: 'a user password is in clear', mutate: (d) => void (users(d)[0].password = 'wonderland'), location: 'users[0].password', says: 'hash-password' },
  { what: 'a user password hash is truncated', mutate: (d) => void (users(d)[0].password = HASH.slice(0, -10)), location: 'users[0].password', says: 'is not a scrypt hash' },
  { what: 'a user enabled is a number', mutate: (d) => void (users(d)[0].enabled = 1), location: 'users[0].enabled', says: 'true or false, got 1' },
  { what: 'a user config is an array', mutate: (d) => void (users(d)[0].config = [true]), location: 'users[0].config', says: 'config must be an object' },
  { what: 'a user sets websockets.enabled to "true"', mutate: (d) => void (users(d)[0].config = { 'websockets.enabled': 'true' }), location: 'users[0].config["websockets.enabled"]', says: 'must be a boolean' },
  { what: 'two users of a context share an id', mutate: (d) => void (users(d)[1].id = 3), location: 'users[1].id', says: 'user id 3 in context 1 is already used by users[0]' },
  { what: 'two users of a context share a login', mutate: (d) => void (users(d)[1].login = 'alice'), location: 'users[1].login', says: 'login "alice" in context 1 is already used by users[0]' },
];

describe('Directory validation', () => {
  let temp: TempDir;
  before(async () => {
    temp = await TempDir.create();
  });
  after(async () => {
    await temp.remove();
  });

  async function loadFailure(content: string | object): Promise<DirectoryError> {
    const file = await temp.write('directory.json', content);
    try {
      await loadDirectory(file);
    } catch (err) {
      expect(err).to.be.instanceOf(DirectoryError);
      const error = err as DirectoryError;
      expect(error.source).to.equal(file);
      expect(error.message.startsWith(`${file}: `), error.message).to.equal(true);
      return error;
    }
    throw new Error('the directory was accepted');
  }

  describe('#loadDirectory', () => {
    it('loads the valid fixture the invalid cases are derived from', async () => {
      const directory = await loadDirectory(await temp.write('valid.json', validDirectory()));
      expect(directory.contexts()).to.have.length(3);
      expect(directory.users()).to.have.length(6);
    });

    for (const { what, mutate, location, says } of INVALID) {
      it(`names ${location} when ${what}`, async () => {
        const json = validDirectory();
        mutate(json);
        const error = await loadFailure(json);
        expect(error.location).to.equal(location);
        expect(error.problem).to.contain(says);
        expect(error.message).to.contain(`: ${location}: `);
      });
    }

    it('never quotes a password in the error', async () => {
      const json = validDirectory();
      users(json)[0].password = 'wonderland';
      const error = await loadFailure(json);
      expect(error.message).not.to.contain('wonderland');
    });

    it('says the file does not exist when it is missing', async () => {
      const file = temp.file('nope.json');
      try {
        await loadDirectory(file);
        expect.fail('loaded a missing file');
      } catch (err) {
        expect(err).to.be.instanceOf(DirectoryError);
        expect((err as DirectoryError).message).to.equal(`${file}: the file does not exist; create it or fix directory.file`);
      }
    });

    it('says the file cannot be read when it is a folder', async () => {
      try {
        await loadDirectory(temp.path);
        expect.fail('loaded a folder');
      } catch (err) {
        expect(err).to.be.instanceOf(DirectoryError);
        expect((err as DirectoryError).problem).to.contain('EISDIR');
      }
    });

    it('gives the line and column when the JSON is malformed', async () => {
      const error = await loadFailure('{\n  "contexts": [\n    {"id": 1,}\n  ]\n}');
      expect(error.location).to.equal('');
      expect(error.problem).to.match(/^is not valid JSON: .*\(line 3, column \d+\)$/);
    });

    it('never quotes the text around a syntax error: it may be a clear password typed without quotes', async () => {
      const error = await loadFailure('{"contexts": [], "contextSets": [], "users": [{"id": 3, "context": 1, "login": "a", "password": hunter2sec}]}');
      expect(error.problem).to.match(/^is not valid JSON: .*\(line 1, column \d+\)$/);
      expect(error.message).to.not.contain('hunter2');
      expect(error.cause).to.equal(undefined);
    });

    it('refuses an empty file as invalid JSON', async () => {
      const error = await loadFailure('');
      expect(error.problem).to.contain('is not valid JSON');
    });

    for (const root of ['[]', 'null', '42', '"directory"']) {
      it(`refuses ${root} as the whole file`, async () => {
        const error = await loadFailure(root);
        expect(error.location).to.equal('');
        expect(error.problem).to.contain('must be a JSON object');
      });
    }
  });

  describe('#parse', () => {
    it('accepts an empty object as an empty directory', () => {
      const directory = Directory.parse('{}', 'inline');
      expect(directory.contexts()).to.deep.equal([]);
      expect(directory.users()).to.deep.equal([]);
    });

    it('accepts a file that starts with a byte order mark', () => {
      expect(Directory.parse('\uFEFF{"contexts": []}', 'bom').contexts()).to.deep.equal([]);
    });

    it('fills the defaults of optional fields', () => {
      const directory = Directory.parse(
        JSON.stringify({ contexts: [{ id: 1, name: 'c' }], users: [{ id: 2, context: 1, login: 'u', password: HASH }] }),
        'inline',
      );
      expect(directory.context(1)).to.deep.equal({ id: 1, name: 'c', tags: [], enabled: true, config: {} });
      expect(directory.user(1, 2)).to.deep.include({ enabled: true, config: {} });
    });

    it('accepts the same user id and login in different contexts', () => {
      expect(() => Directory.parse(JSON.stringify(validDirectory()), 'inline')).not.to.throw();
    });

    it('accepts users listed before contexts in the file', () => {
      const { users: u, contexts: c } = validDirectory();
      expect(() => Directory.parse(JSON.stringify({ users: u, contexts: c }), 'inline')).not.to.throw();
    });

    it('accepts settings it does not know, of any type', () => {
      const json = validDirectory();
      users(json)[0].config = { 'some.future.key': [1, 2], other: null };
      expect(Directory.parse(JSON.stringify(json), 'inline').user(1, 3)!.config).to.deep.equal({ 'some.future.key': [1, 2], other: null });
    });

    it('throws a DirectoryError naming the source', () => {
      expect(() => Directory.parse('{"users": 1}', 'my-source')).to.throw(DirectoryError, 'my-source: users: must be an array');
    });
  });
});
