/**
 * Path filters: which of a user's sockets a message (or a close) is for.
 *
 * Pure, no I/O. A filter is compiled once per operation, then the matcher is called
 * once per candidate socket; a match costs O(length of the socket's path), with no
 * regular expression built or run.
 *
 * The rules (brief, "Path filters"):
 * - `null` / `undefined` (absent) matches every socket, including one with no path;
 * - `*` matches every socket that has a path. A socket with no path never matches a
 *   non-null filter, and `*` is non-null, so `*` does not match a socket whose path
 *   is `null`;
 * - `/a/b/*` matches `/a/b` itself and everything below it (`/a/b/c`, `/a/b/c/d`),
 *   but not a sibling sharing a prefix (`/a/bc`);
 * - `/*` (the wildcard on the root) matches every path, like `*`;
 * - any other filter matches exactly (string equality: case-sensitive);
 * - a valid path starts with `/`, has no trailing `/`, no `//`, and only
 *   `[A-Za-z0-9_.-]` in its segments; `/` alone is not a valid path.
 * - a `.` or `..` segment (also spelled `%2e`, RFC 3986 section 2.3) is refused with
 *   `ERR_PATH_INVALID`, in socket paths and filters alike: proxies in front
 *   normalise such paths differently (some resolve them, some pass them on), so
 *   the path a proxy routed by and the path wsmesh filters by could differ.
 *
 * Anything else (wrong type, empty string, bad syntax) is refused with
 * `ERR_INVALID_PATH_FILTER` and a message saying what is wrong.
 */
import { WsmeshError } from '../errors.ts';

/** Decides whether a socket, by its path (`null`: the socket has none), is addressed. */
export type PathMatcher = (socketPath: string | null) => boolean;

/** The filter that addresses every socket (what an absent filter compiles to). */
export const MATCH_EVERY_SOCKET: PathMatcher = () => true;

/** `*`: every socket that has a path. */
const MATCH_ANY_PATH: PathMatcher = (socketPath) => socketPath !== null;

const SLASH = 0x2f;
const WILDCARD_SUFFIX = '/*';
/** Longest filter quoted back in an error message; the rest is elided. */
const QUOTE_MAX = 80;

/** True when `p` is a valid path: `/seg[/seg...]`, segments of `[A-Za-z0-9_.-]`, none `.` or `..`. */
export function isValidPath(p: string): boolean {
  return typeof p === 'string' && pathProblem(p) === undefined && !hasDotSegment(p);
}

const DOT = 0x2e;
const PERCENT = 0x25;

/**
 * True when a `/`-separated segment of `p` is `.` or `..`, the dots written as is or
 * percent-encoded (`%2e%2e`, `.%2E`, RFC 3986 section 2.3): what section 5.2.4 would
 * resolve away. A segment merely containing dots (`a.b`, `...`) is none. One pass,
 * no allocation: it runs on every push's filter.
 */
export function hasDotSegment(p: string): boolean {
  let start = 0;
  for (let i = 0; i <= p.length; i++) {
    if (i < p.length && p.charCodeAt(i) !== SLASH) continue;
    if (isDots(p, start, i)) return true;
    start = i + 1;
  }
  return false;
}

/** `p[start, end)` is one or two dots, each `.` or `%2e` / `%2E`. */
function isDots(p: string, start: number, end: number): boolean {
  let dots = 0;
  for (let i = start; i < end; dots++) {
    if (dots === 2) return false;
    if (p.charCodeAt(i) === DOT) i += 1;
    else if (i + 3 <= end && p.charCodeAt(i) === PERCENT && p.charCodeAt(i + 1) === 0x32 && (p.charCodeAt(i + 2) | 0x20) === 0x65) i += 3;
    else return false;
  }
  return dots > 0;
}

/**
 * Compiles a filter into a matcher, or throws `WsmeshError('ERR_INVALID_PATH_FILTER')`.
 * `filter` is `unknown` because it comes straight from an API body, a CLI argument or
 * an MQTT payload: the type check is part of the validation.
 */
export function compilePathFilter(filter: unknown): PathMatcher {
  if (filter === null || filter === undefined) return MATCH_EVERY_SOCKET;
  if (typeof filter !== 'string') {
    throw invalid(`a path filter must be a string or null, got ${describeType(filter)}`);
  }
  if (filter === '') throw invalid('the path filter is empty; use null to address every socket, or "*"');
  if (hasDotSegment(filter)) throw new WsmeshError('ERR_PATH_INVALID', `Invalid path filter ${quote(filter)}: a "." or ".." segment is not allowed`);
  if (filter === '*' || filter === WILDCARD_SUFFIX) return MATCH_ANY_PATH;

  if (filter.endsWith(WILDCARD_SUFFIX)) {
    const prefix = filter.slice(0, -WILDCARD_SUFFIX.length);
    // `/a//*` is an empty segment before the wildcard, not a trailing slash of `/a/`.
    const problem = prefix.endsWith('/') ? `empty segment ("//") at index ${prefix.length - 1}` : pathProblem(prefix);
    if (problem !== undefined) throw invalid(`${quote(filter)}: ${problem}`);
    return subtreeMatcher(prefix);
  }

  const problem = pathProblem(filter);
  if (problem !== undefined) throw invalid(`${quote(filter)}: ${problem}`);
  return (socketPath) => socketPath === filter;
}

/** `/a/b/*`: `/a/b` itself or anything under `/a/b/`. */
function subtreeMatcher(prefix: string): PathMatcher {
  const length = prefix.length;
  return (socketPath) => {
    if (socketPath === null) return false;
    if (socketPath.length === length) return socketPath === prefix;
    // The character right after the prefix must be a separator, or `/a/bc` would match `/a/b/*`.
    return socketPath.charCodeAt(length) === SLASH && socketPath.startsWith(prefix);
  };
}

/**
 * Why `p` is not a valid path, or `undefined` when it is. One pass over the string;
 * the first problem found is reported, with its position so a user can find it.
 */
function pathProblem(p: string): string | undefined {
  if (p.length === 0) return 'a path must not be empty';
  if (p.charCodeAt(0) !== SLASH) return 'a path must start with "/"';
  if (p.length === 1) return 'the root "/" alone is not a valid path; use "*" or null to address every socket';
  for (let i = 1; i < p.length; i++) {
    const code = p.charCodeAt(i);
    if (code === SLASH) {
      if (p.charCodeAt(i - 1) === SLASH) return `empty segment ("//") at index ${i - 1}`;
      if (i === p.length - 1) return 'a path must not end with "/"';
    } else if (!isSegmentChar(code)) {
      const shown = p[i] === '*' ? '"*" (a wildcard is only allowed as a whole last segment: "/a/*")' : JSON.stringify(p[i]);
      return `character ${shown} at index ${i} is not allowed; segments may only contain [A-Za-z0-9_.-]`;
    }
  }
  return undefined;
}

/** `[A-Za-z0-9_.-]` */
function isSegmentChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x5f || // _
    code === 0x2e || // .
    code === 0x2d // -
  );
}

function invalid(message: string): WsmeshError {
  return new WsmeshError('ERR_INVALID_PATH_FILTER', `Invalid path filter: ${message}`);
}

function quote(filter: string): string {
  const shown = filter.length > QUOTE_MAX ? `${filter.slice(0, QUOTE_MAX)}...` : filter;
  return JSON.stringify(shown);
}

function describeType(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
