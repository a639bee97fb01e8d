import { expect } from 'chai';
import { findJsonSyntaxError } from '../../src/json/syntax-error.ts';
import { seeded } from '../support/random.ts';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('json syntax error', () => {
  describe('#findJsonSyntaxError', () => {
    for (const text of ['{}', '[]', '0', '-0.5e+10', '"a\\u00e9\\n"', 'true', ' null ', '{"a": [1, {"b": false}], "c": "d"}\r\n', '[[[[]]]]', '"\u{1f600}"']) {
      it(`finds nothing in ${JSON.stringify(text)}, which is JSON`, () => {
        expect(findJsonSyntaxError(text)).to.equal(undefined);
      });
    }

    const CASES: Array<[text: string, line: number, column: number, says: string]> = [
      ['', 1, 1, 'the text ends too early: expected a value'],
      ['{', 1, 2, 'ends too early: expected a property name'],
      ['{"a": 1,}', 1, 9, 'no trailing comma before "}"'],
      ['[1,]', 1, 4, 'a trailing comma before "]"'],
      ['[1 2]', 1, 4, 'expected "," or "]"'],
      ['{"a" 1}', 1, 6, 'expected ":" after the property name'],
      ['{a: 1}', 1, 2, 'expected a property name in double quotes'],
      ["{'a': 1}", 1, 2, 'double quotes'],
      ['{"a": secret}', 1, 7, 'expected a value'],
      ['{"a": tru}', 1, 7, 'expected a value'],
      ['{"a": 01}', 1, 8, 'expected "," or "}"'],
      ['{"a": -}', 1, 7, 'a bad number'],
      ['{"a": 1.}', 1, 8, 'expected "," or "}"'],
      ['{"a": "x\ny"}', 1, 9, 'a control character'],
      ['{"a": "\\x"}', 1, 8, 'a bad escape'],
      ['{"a": "\\u12g4"}', 1, 8, 'a bad escape'],
      ['{"a": "open', 1, 12, 'a string is not closed'],
      ['{"a": "\\', 1, 8, 'a string is not closed'],
      ['{}\n{}', 2, 1, 'more text after the JSON value'],
      ['{\n  "a": 1\n  "b": 2\n}', 3, 3, 'expected "," or "}"'],
      ['[\r\n  1,\r\n  x]', 3, 3, 'expected a value'],
    ];
    for (const [text, line, column, says] of CASES) {
      it(`points at line ${line}, column ${column} in ${JSON.stringify(text)}`, () => {
        const error = findJsonSyntaxError(text);
        expect(error).to.include({ line, column });
        expect(error?.problem).to.contain(says);
      });
    }

    it('never quotes the text in its problem', () => {
      for (const text of ['{"password": hunter2}', "{'hunter2': 1}", '{"a": "hunter2\t"}', 'hunter2']) {
        expect(findJsonSyntaxError(text)?.problem, text).not.to.contain('hunter');
      }
    });

    it('handles nesting far deeper than a recursive parser could', () => {
      const deep = '['.repeat(200_000) + ']'.repeat(200_000);
      expect(findJsonSyntaxError(deep)).to.equal(undefined);
      expect(findJsonSyntaxError(deep.slice(0, -1))?.problem).to.contain('ends too early');
    });

    // JSON.parse is the oracle: the two must agree on every text whether it is JSON,
    // or an accounts file could be refused with "undefined" or parsed despite an error.
    it('agrees with JSON.parse on 20,000 random texts (seed 7)', () => {
      const random = seeded(7);
      const PIECES = ['{', '}', '[', ']', ',', ':', '"', '"a"', '"\\n"', '\\', 'u', '0', '1', '-', '.', 'e', '+', 'true', 'fals', 'null', ' ', '\n', '\t', 'x', "'", '\u0001', 'é'];
      const counts = { json: 0, notJson: 0 };
      for (let n = 0; n < 20_000; n++) {
        let text = '';
        const length = 1 + random.int(12);
        for (let k = 0; k < length; k++) text += random.pick(PIECES);
        const error = findJsonSyntaxError(text);
        expect(error === undefined, `case ${n}: ${JSON.stringify(text)}`).to.equal(parses(text));
        if (error) expect(error.offset, JSON.stringify(text)).to.be.within(0, text.length);
        counts[error ? 'notJson' : 'json']++;
      }
      console.log(`      checked 20000 texts: ${counts.json} JSON, ${counts.notJson} not JSON`);
      expect(counts.json).to.be.above(100);
    });

    it('agrees with JSON.parse on 5,000 random JSON documents, whole and with one character changed (seed 11)', () => {
      const random = seeded(11);
      const value = (depth: number): unknown => {
        const kind = random.int(depth > 3 ? 4 : 6);
        if (kind === 0) return random.pick([0, -1, 1.5, 2e-7, 12345678901]);
        if (kind === 1) return random.pick(['', 'a', 'a\nb', '"q"', '\u0007', 'é']);
        if (kind === 2) return random.pick([true, false]);
        if (kind === 3) return null;
        if (kind === 4) return Array.from({ length: random.int(4) }, () => value(depth + 1));
        return Object.fromEntries(Array.from({ length: random.int(4) }, (_, k) => [`k${k}`, value(depth + 1)]));
      };
      const counts = { json: 0, notJson: 0 };
      for (let n = 0; n < 5_000; n++) {
        const whole = JSON.stringify(value(0), null, random.int(3));
        const at = random.int(whole.length);
        const changed = whole.slice(0, at) + random.pick(['', ',', '"', '}', ']', 'x', ' ', '\\', '0']) + whole.slice(at + 1);
        for (const text of [whole, changed]) {
          const error = findJsonSyntaxError(text);
          expect(error === undefined, `case ${n}: ${JSON.stringify(text)}`).to.equal(parses(text));
          counts[error ? 'notJson' : 'json']++;
        }
      }
      console.log(`      checked 10000 texts: ${counts.json} JSON, ${counts.notJson} not JSON`);
    });
  });
});
