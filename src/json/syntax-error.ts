/**
 * Where a text stops being JSON (RFC 8259), as a line, a column and what was expected,
 * without quoting the text. Pure.
 *
 * Why not JSON.parse's own message: V8 quotes the source around an unexpected token
 * (`Unexpected token 'h', ..."assword": hunter2sec"... is not valid JSON`), and a
 * file of credentials must not have a clear password copied into a log line by its
 * parse error. Call this only after JSON.parse has failed: it scans the text once,
 * with an explicit stack (no recursion, so deep nesting cannot overflow).
 */

export interface JsonSyntaxError {
  /** Index (UTF-16 code units) of the first character that cannot continue the text. */
  offset: number;
  /** 1-based, as editors count. */
  line: number;
  column: number;
  /** What is wrong there and what to write instead; never a piece of the text. */
  problem: string;
}

const VALUE = 'expected a value: a "string" in double quotes, a number, true, false, null, an object or an array';
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /[0-9A-Fa-f]{4}/y;
const ESCAPES = '"\\/bfnrt';
const LITERALS = ['true', 'false', 'null'];

/** The first syntax error of `text`, or `undefined` when it is JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const n = text.length;
  const open: Array<'{' | '['> = [];
  let i = 0;
  let state: 'value' | 'key' | 'after' = 'value';
  const fail = (problem: string): JsonSyntaxError => at(text, i, i >= n ? `the text ends too early: ${problem}` : problem);
  const skipSpace = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  /** Moves past the string starting at `i`, or returns why it is not one. */
  const string = (): string | undefined => {
    for (i++; i < n; ) {
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        i++;
        return undefined;
      }
      if (code < 0x20) return 'a control character (a line break, a tab) inside a string: write it as an escape like \\n or \\t';
      if (code !== 0x5c) {
        i++;
        continue;
      }
      const escaped = text[i + 1];
      HEX4.lastIndex = i + 2;
      if (escaped === 'u' && HEX4.test(text)) i += 6;
      else if (escaped !== undefined && ESCAPES.includes(escaped)) i += 2;
      else if (escaped === undefined) return 'a string is not closed: end it with a double quote';
      else return 'a bad escape in a string: a backslash goes before one of " \\ / b f n r t or u and four hex digits';
    }
    return 'a string is not closed: end it with a double quote';
  };

  for (;;) {
    skipSpace();
    if (state === 'key') {
      if (text[i] !== '"') return fail('expected a property name in double quotes (no trailing comma before "}")');
      const problem = string();
      if (problem) return fail(problem);
      skipSpace();
      if (text[i] !== ':') return fail('expected ":" after the property name');
      i++;
      state = 'value';
    } else if (state === 'value') {
      const c = text[i];
      if (c === '{' || c === '[') {
        i++;
        skipSpace();
        if (text[i] === (c === '{' ? '}' : ']')) {
          i++;
          state = 'after';
        } else {
          open.push(c);
          state = c === '{' ? 'key' : 'value';
        }
      } else if (c === '"') {
        const problem = string();
        if (problem) return fail(problem);
        state = 'after';
      } else if (c === '-' || (c >= '0' && c <= '9')) {
        NUMBER.lastIndex = i;
        if (!NUMBER.test(text)) return fail('a bad number: write digits like 12, -3, 1.5 or 2e3');
        i = NUMBER.lastIndex;
        state = 'after';
      } else {
        const literal = LITERALS.find((word) => text.startsWith(word, i));
        // A `]` where a value should be can only follow a comma: `[]` was handled above.
        if (!literal) return fail(c === ']' ? 'a trailing comma before "]": remove it' : VALUE);
        i += literal.length;
        state = 'after';
      }
    } else {
      const top = open.at(-1);
      if (top === undefined) return i < n ? fail('more text after the JSON value: the file holds one object') : undefined;
      const close = top === '{' ? '}' : ']';
      if (text[i] === ',') {
        i++;
        state = top === '{' ? 'key' : 'value';
      } else if (text[i] === close) {
        i++;
        open.pop();
      } else {
        return fail(`expected "," or "${close}"`);
      }
    }
  }
}

function at(text: string, offset: number, problem: string): JsonSyntaxError {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { offset, line: before.split('\n').length, column: offset - lineStart + 1, problem };
}
