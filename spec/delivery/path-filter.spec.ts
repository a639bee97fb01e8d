import { expect } from 'chai';
import { compilePathFilter, hasDotSegment, isValidPath, MATCH_EVERY_SOCKET } from '../../src/delivery/path-filter.ts';
import { WsmeshError } from '../../src/errors.ts';

/** Socket paths every filter is tried against; `null` is a socket with no path. */
const SOCKET_PATHS: Array<string | null> = [
  null,
  '/ws',
  '/ws/',
  '/ws/a',
  '/ws/a/b',
  '/ws/ab',
  '/wsx',
  '/socket.io/appsuite',
  '/socket.io/appsuite/x',
  '/socket.io/appsuitex',
  '/a',
  '/a/b',
  '/a/b/c',
  '/a/b/c/d',
  '/a/bc',
  '/a/b.c',
  '/A/b',
  '/a',
];

/** For each filter: the exact set of SOCKET_PATHS it must match (all others must not). */
const MATCH_TABLE: Array<{ filter: unknown; matches: Array<string | null> }> = [
  { filter: null, matches: SOCKET_PATHS },
  { filter: undefined, matches: SOCKET_PATHS },
  { filter: '*', matches: SOCKET_PATHS.filter((p) => p !== null) },
  { filter: '/*', matches: SOCKET_PATHS.filter((p) => p !== null) },
  { filter: '/a/b/*', matches: ['/a/b', '/a/b/c', '/a/b/c/d'] },
  { filter: '/a/*', matches: ['/a', '/a/b', '/a/b/c', '/a/b/c/d', '/a/bc', '/a/b.c'] },
  { filter: '/a/b', matches: ['/a/b'] },
  { filter: '/a', matches: ['/a'] },
  { filter: '/A/b', matches: ['/A/b'] },
  { filter: '/ws/*', matches: ['/ws', '/ws/', '/ws/a', '/ws/a/b', '/ws/ab'] },
  { filter: '/ws', matches: ['/ws'] },
  { filter: '/socket.io/appsuite', matches: ['/socket.io/appsuite'] },
  { filter: '/socket.io/appsuite/*', matches: ['/socket.io/appsuite', '/socket.io/appsuite/x'] },
  { filter: '/a/b.c', matches: ['/a/b.c'] },
  { filter: '/nowhere/*', matches: [] },
  { filter: '/nowhere', matches: [] },
];

const VALID_PATHS = [
  '/a',
  '/ws',
  '/a/b',
  '/a/b/c/d/e',
  '/socket.io/appsuite',
  '/A-Z_a-z.0-9',
  '/...',
  '/.a',
  '/a..',
  '/-/_/.x',
  '/' + 'x'.repeat(1000),
];

/** Invalid paths, with a fragment the error message must contain. */
const INVALID_PATHS: Array<{ path: string; says: string }> = [
  { path: '', says: 'empty' },
  { path: '/', says: 'root' },
  { path: 'a', says: 'start with "/"' },
  { path: 'a/b', says: 'start with "/"' },
  { path: ' /a', says: 'start with "/"' },
  { path: '/a/', says: 'end with "/"' },
  { path: '/a/b/', says: 'end with "/"' },
  { path: '//', says: '"//"' },
  { path: '//a', says: '"//") at index 0' },
  { path: '/a//b', says: '"//") at index 2' },
  { path: '/a b', says: 'character " " at index 2' },
  { path: '/a/b c', says: 'index 4' },
  { path: '/a*', says: 'wildcard' },
  { path: '/a/*/b', says: 'wildcard' },
  { path: '/ä', says: 'character "ä" at index 1' },
  { path: '/a?b=1', says: 'character "?"' },
  { path: '/a#b', says: 'character "#"' },
  { path: '/a%20b', says: 'character "%"' },
  { path: '/a\\b', says: 'character "\\\\"' },
  { path: '/a\nb', says: 'character "\\n"' },
  { path: '/a:b', says: 'character ":"' },
  { path: '/a~b', says: 'character "~"' },
  { path: '/a+b', says: 'character "+"' },
];

/** Paths with a `.` or `..` segment, as is or percent-encoded: ERR_PATH_INVALID. */
const DOT_SEGMENT_PATHS = ['/.', '/..', '/a/..', '/a/.', '/a/../b', '/a/./b', '/../a', '/%2e%2e', '/a/%2E%2E/b', '/a/.%2e', '/a/%2e.', '/a/%2e', '/a/%2E/b'];

function expectInvalidFilter(filter: unknown, says: string): void {
  let thrown: unknown;
  try {
    compilePathFilter(filter);
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `filter ${JSON.stringify(filter)} must be refused`).to.be.instanceOf(WsmeshError);
  const error = thrown as WsmeshError;
  expect(error.code).to.equal('ERR_INVALID_PATH_FILTER');
  expect(error.status).to.equal(400);
  expect(error.message).to.contain('Invalid path filter');
  expect(error.message).to.contain(says);
}

describe('path-filter', () => {
  describe('#hasDotSegment', () => {
    for (const path of [...DOT_SEGMENT_PATHS, '/ws/../', '/a/%2e%2E/', '..', '.', '/a/%2E.']) {
      it(`finds one in ${JSON.stringify(path)}`, () => expect(hasDotSegment(path)).to.equal(true));
    }
    for (const path of ['/a', '/...', '/a/.b', '/a/b.', '/a/%2e%2e%2e', '/a/%2', '/a/%2f', '/a/%2ex', '/a/.%2', '/a/%3e', '', '/', '//']) {
      it(`finds none in ${JSON.stringify(path)}`, () => expect(hasDotSegment(path)).to.equal(false));
    }
  });

  describe('#isValidPath', () => {
    for (const path of VALID_PATHS) {
      it(`accepts ${JSON.stringify(path.length > 40 ? path.slice(0, 40) + '...' : path)}`, () => {
        expect(isValidPath(path)).to.equal(true);
      });
    }
    for (const { path } of INVALID_PATHS) {
      it(`refuses ${JSON.stringify(path)}`, () => {
        expect(isValidPath(path)).to.equal(false);
      });
    }
    for (const path of DOT_SEGMENT_PATHS) {
      it(`refuses ${JSON.stringify(path)}, which has a dot segment`, () => {
        expect(isValidPath(path)).to.equal(false);
      });
    }
    it('refuses "*" and wildcard filters, which are filters, not paths', () => {
      expect(isValidPath('*')).to.equal(false);
      expect(isValidPath('/a/*')).to.equal(false);
    });
    it('refuses a non-string without throwing', () => {
      expect(isValidPath(42 as unknown as string)).to.equal(false);
      expect(isValidPath(null as unknown as string)).to.equal(false);
    });
  });

  describe('#compilePathFilter', () => {
    describe('matching', () => {
      for (const { filter, matches } of MATCH_TABLE) {
        for (const socketPath of new Set(SOCKET_PATHS)) {
          const expected = matches.includes(socketPath);
          it(`${expected ? 'matches' : 'does not match'} socket path ${JSON.stringify(socketPath)} when the filter is ${String(JSON.stringify(filter))}`, () => {
            expect(compilePathFilter(filter)(socketPath)).to.equal(expected);
          });
        }
      }
    });

    it('returns the shared match-everything matcher when the filter is absent', () => {
      expect(compilePathFilter(undefined)).to.equal(MATCH_EVERY_SOCKET);
      expect(compilePathFilter(null)).to.equal(MATCH_EVERY_SOCKET);
    });

    it('matches every valid path exactly when the filter is that path', () => {
      for (const path of VALID_PATHS) {
        const match = compilePathFilter(path);
        expect(match(path), path).to.equal(true);
        expect(match(path + 'x'), path).to.equal(false);
        expect(match(path + '/x'), path).to.equal(false);
        expect(match(null), path).to.equal(false);
      }
    });

    it('matches a subtree but not a sibling that shares the prefix when the filter ends with "/*"', () => {
      for (const path of VALID_PATHS) {
        const match = compilePathFilter(`${path}/*`);
        expect(match(path), path).to.equal(true);
        expect(match(`${path}/x`), path).to.equal(true);
        expect(match(`${path}x`), path).to.equal(false);
        expect(match(path.slice(0, -1)), path).to.equal(false);
        expect(match(null), path).to.equal(false);
      }
    });

    describe('refusals', () => {
      for (const { path, says } of INVALID_PATHS) {
        if (path === '') continue; // the empty filter has its own message, below
        it(`throws ERR_INVALID_PATH_FILTER saying ${JSON.stringify(says)} when the filter is ${JSON.stringify(path)}`, () => {
          expectInvalidFilter(path, says);
        });
      }
      for (const { path, says } of INVALID_PATHS) {
        // '' + '/*' is the valid root wildcard; '/' and '/a/' end in "//" before the wildcard (below).
        if (path === '' || path.endsWith('/')) continue;
        it(`throws when the wildcard filter ${JSON.stringify(path + '/*')} has an invalid prefix`, () => {
          expectInvalidFilter(`${path}/*`, says);
        });
      }
      const others: Array<{ filter: unknown; says: string }> = [
        { filter: '', says: 'empty' },
        { filter: '**', says: 'start with "/"' },
        { filter: '*/*', says: 'start with "/"' },
        { filter: '/*/*', says: 'wildcard' },
        { filter: '/a/*/*', says: 'wildcard' },
        { filter: '/a/**', says: 'wildcard' },
        { filter: '/a*/*', says: 'wildcard' },
        { filter: '//*', says: '"//") at index 0' },
        { filter: '/a//*', says: '"//") at index 2' },
        { filter: ' *', says: 'start with "/"' },
        { filter: 42, says: 'got a number' },
        { filter: true, says: 'got a boolean' },
        { filter: ['/a'], says: 'got an array' },
        { filter: { path: '/a' }, says: 'got an object' },
        { filter: Symbol('x'), says: 'got a symbol' },
      ];
      for (const { filter, says } of others) {
        it(`throws ERR_INVALID_PATH_FILTER saying ${JSON.stringify(says)} when the filter is ${typeof filter === 'symbol' ? 'a symbol' : JSON.stringify(filter)}`, () => {
          expectInvalidFilter(filter, says);
        });
      }
      for (const path of DOT_SEGMENT_PATHS) {
        for (const filter of [path, `${path}/*`]) {
          it(`throws ERR_PATH_INVALID when the filter ${JSON.stringify(filter)} has a dot segment`, () => {
            let thrown: unknown;
            try {
              compilePathFilter(filter);
            } catch (err) {
              thrown = err;
            }
            expect(thrown).to.be.instanceOf(WsmeshError);
            expect((thrown as WsmeshError).code).to.equal('ERR_PATH_INVALID');
            expect((thrown as WsmeshError).status).to.equal(400);
            expect((thrown as WsmeshError).message).to.contain('".." segment');
          });
        }
      }
      it('quotes a long invalid filter shortened in the message', () => {
        const long = '/' + 'a'.repeat(500) + '/';
        expectInvalidFilter(long, '...');
        try {
          compilePathFilter(long);
        } catch (err) {
          expect((err as Error).message.length).to.be.below(200);
        }
      });
    });
  });
});
