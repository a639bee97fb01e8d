import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { Directory, loadDirectory } from '../../src/directory/directory.ts';
import { verifyPassword } from '../../src/directory/password.ts';
import { validDirectory, type DirectoryJson } from './fixtures.ts';

const DEMO_FILE = fileURLToPath(new URL('../../config/directory.json', import.meta.url));

function parse(json: DirectoryJson = validDirectory()): Directory {
  return Directory.parse(JSON.stringify(json), 'fixture.json');
}

describe('Directory', () => {
  describe('#context', () => {
    it('finds a context by id', () => {
      expect(parse().context(2)).to.deep.include({ id: 2, name: 'acme' });
    });
    it('answers undefined when no context has the id', () => {
      expect(parse().context(99)).to.equal(undefined);
    });
  });

  describe('#contextByName', () => {
    it('finds a context by its exact name', () => {
      expect(parse().contextByName('demo')?.id).to.equal(1);
      expect(parse().contextByName('Demo')).to.equal(undefined);
    });
  });

  describe('#user', () => {
    it('finds a user by context and user id', () => {
      expect(parse().user(1, 3)?.login).to.equal('alice');
    });
    it('tells apart users with the same id in different contexts', () => {
      const directory = parse();
      expect(directory.user(1, 3)?.login).to.equal('alice');
      expect(directory.user(2, 3)?.login).to.equal('bob');
    });
    it('answers undefined when the user is in another context', () => {
      expect(parse().user(2, 4)).to.equal(undefined);
    });
    it('finds a disabled user (refusing it is the caller\'s job)', () => {
      expect(parse().user(2, 5)?.enabled).to.equal(false);
    });
  });

  describe('#findLogin', () => {
    const cases: Array<{ login: string; found?: [number, number] }> = [
      { login: 'alice@demo', found: [1, 3] },
      { login: 'alice', found: [1, 3] },
      { login: 'bob@demo', found: [1, 4] },
      { login: 'bob@acme', found: [2, 3] },
      { login: 'bob' }, // in two contexts: ambiguous
      { login: 'carol', found: [2, 5] }, // disabled, still found
      { login: 'alice@acme' }, // no alice in acme
      { login: 'alice@nowhere' }, // no such context, and no bare login "alice@nowhere"
      { login: 'Alice' }, // logins are case-sensitive
      { login: 'alice@Demo' },
      { login: 'frank@example.com', found: [7, 8] }, // context names may contain dots
      { login: 'erin@example.com' }, // the qualified reading wins: no erin in example.com
      { login: 'erin@example.com@demo', found: [1, 6] }, // logins may contain "@": the last one separates
      { login: '' },
      { login: '@demo' },
      { login: 'alice@' },
    ];
    for (const { login, found } of cases) {
      it(found ? `finds context ${found[0]} user ${found[1]} for ${JSON.stringify(login)}` : `finds nobody for ${JSON.stringify(login)}`, () => {
        const match = parse().findLogin(login);
        if (!found) {
          expect(match).to.equal(undefined);
          return;
        }
        expect(match?.context.id).to.equal(found[0]);
        expect(match?.user.id).to.equal(found[1]);
        expect(match?.user.context).to.equal(found[0]);
      });
    }

    it('finds a bare login containing "@" when no context has the name after it', () => {
      const json = validDirectory();
      (json.users as unknown[]).push({ id: 9, context: 2, login: 'gina@nowhere.org', password: (json.users as Array<{ password: string }>)[0].password });
      expect(parse(json).findLogin('gina@nowhere.org')?.user.id).to.equal(9);
    });
  });

  describe('#contextSetsOf', () => {
    it('lists the sets whose tags the context all carries, in file order', () => {
      const directory = parse();
      expect(directory.contextSetsOf(directory.context(1)!).map((s) => s.name)).to.deep.equal(['all', 'eu', 'eu-paid']);
    });
    it('lists only the sets without tags for a context without tags', () => {
      const directory = parse();
      expect(directory.contextSetsOf(directory.context(2)!).map((s) => s.name)).to.deep.equal(['all']);
    });
    it('does not match a set when the context carries only some of its tags', () => {
      const directory = parse();
      expect(directory.contextSetsOf(directory.context(7)!).map((s) => s.name)).to.deep.equal(['all', 'eu']);
    });
    it('accepts a context id', () => {
      expect(parse().contextSetsOf(7).map((s) => s.name)).to.deep.equal(['all', 'eu']);
    });
    it('answers no sets for an unknown context', () => {
      expect(parse().contextSetsOf(99)).to.deep.equal([]);
    });
    it('keeps file order when the sets are listed in another order', () => {
      const json = validDirectory();
      (json.contextSets as unknown[]).reverse();
      expect(parse(json).contextSetsOf(1).map((s) => s.name)).to.deep.equal(['eu-paid', 'eu', 'all']);
    });
    it('answers the same precomputed array on every call', () => {
      const directory = parse();
      expect(directory.contextSetsOf(1)).to.equal(directory.contextSetsOf(1));
    });
  });

  describe('.empty', () => {
    it('has no contexts, sets or users', () => {
      const directory = Directory.empty();
      expect(directory.contexts()).to.deep.equal([]);
      expect(directory.findLogin('alice')).to.equal(undefined);
      expect(directory.context(1)).to.equal(undefined);
      expect(directory.contextSetsOf(1)).to.deep.equal([]);
    });
  });

  describe('the demo directory (config/directory.json)', () => {
    let demo: Directory;
    before(async () => {
      demo = await loadDirectory(DEMO_FILE);
    });

    const credentials: Array<[string, string, number, number, boolean]> = [
      ['alice@demo', 'wonderland', 1, 3, true],
      ['bob@demo', 'builder', 1, 4, true],
      ['dave@demo', 'dave-pass', 1, 6, false],
      ['carol@acme', 'carol-pass', 2, 5, true],
    ];
    for (const [login, password, ctx, id, enabled] of credentials) {
      it(`lets ${login} log in with ${JSON.stringify(password)} (enabled: ${enabled})`, async () => {
        const match = demo.findLogin(login)!;
        expect(match.context.id).to.equal(ctx);
        expect(match.user.id).to.equal(id);
        expect(match.user.enabled).to.equal(enabled);
        expect(await verifyPassword(password, match.user.password)).to.equal(true);
        expect(await verifyPassword(`${password}x`, match.user.password)).to.equal(false);
      });
    }

    it('has context demo in set eu and context acme with web sockets disabled', () => {
      expect(demo.contextSetsOf(1).map((s) => s.name)).to.deep.equal(['eu']);
      expect(demo.contextSetsOf(2)).to.deep.equal([]);
      expect(demo.context(2)!.config['websockets.enabled']).to.equal(false);
    });
  });
});
