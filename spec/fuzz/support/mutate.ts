/**
 * Input mutators for the fuzz targets (pure: a seeded Random in, bytes or values
 * out). Each picks one kind of damage a hostile or broken client does: random
 * bytes, boundary values, truncation, duplication and splicing of valid samples,
 * overlong strings, wrong JSON types, unicode oddities.
 */
import type { Random } from '../../support/random.ts';

/** Integers where parsers and range checks break: sign, byte, 16/32/53-bit edges. */
export const BOUNDARY_NUMBERS: readonly number[] = [0, -0, 1, -1, 7, 127, 128, 255, 256, 1023, 1024, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 53), 1e21, 1.5, 1e-7, 1e308];

/** Strings that trip text handling: empty, NUL, BOM, lone surrogates, RTL override, combining marks, separators, path and JSON syntax. */
export const ODD_STRINGS: readonly string[] = [
  '', ' ', '\u0000', '\uFEFF', '\uD800', '\uDFFF', '\uD83D\uDE00', '\u202E', 'e\u0301', '\u2028', '\u0085', '\r\n', '\t', '%00', '%', '%zz', '%2e%2e', '..', '/..', '../', '//', '*', '/*', '#', '+',
  '"', '\\', '{', '}', '[', ']', 'null', 'true', '-1', '0x10', '1e999', 'NaN', '__proto__', 'constructor', 'prototype', 'toString', '<script>', '${x}', ';', '=', ',', ':',
];

/** Byte sequences that are not valid UTF-8: overlong encodings, surrogates, out of range, lone continuation bytes. */
export const INVALID_UTF8: readonly Buffer[] = [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xff], [0xfe, 0xff], [0xe2, 0x82]].map((b) => Buffer.from(b));

/** Lengths that cross common limits: a byte, 16 bits, a page, maxPayload (64 KiB), 1 MiB. */
export const OVERLONG_LENGTHS: readonly number[] = [126, 256, 4097, 65537, (1 << 20) + 1];

export function randomBytes(rng: Random, max: number): Buffer {
  const out = Buffer.alloc(rng.int(max + 1));
  for (let i = 0; i < out.length; i++) out[i] = rng.int(256);
  return out;
}

export function randomText(rng: Random, max: number, alphabet = 'abcXYZ019_-./ %'): string {
  let out = '';
  for (let i = rng.int(max + 1); i > 0; i--) out += alphabet[rng.int(alphabet.length)];
  return out;
}

/** An overlong string: one repeated character (sometimes multi-byte) of a limit-crossing length, capped at `cap`. */
export function overlong(rng: Random, cap = 1 << 20): string {
  const length = Math.min(cap, rng.pick(OVERLONG_LENGTHS));
  return rng.pick(['A', 'é', '\uD83D\uDE00', '/', '%']).repeat(Math.ceil(length / 2));
}

/** A string that is an odd one, a boundary number's text, random text or an overlong one. */
export function oddString(rng: Random, cap?: number): string {
  switch (rng.int(5)) {
    case 0:
      return String(rng.pick(BOUNDARY_NUMBERS));
    case 1:
      return randomText(rng, 12);
    case 2:
      return overlong(rng, cap);
    default:
      return rng.pick(ODD_STRINGS);
  }
}

/**
 * One byte-level mutation of `input`: flip, insert, delete, truncate, duplicate a
 * range, splice in part of another sample, or insert invalid UTF-8.
 */
export function mutateBytes(rng: Random, input: Buffer, samples: readonly Buffer[] = []): Buffer {
  const at = (n: number) => rng.int(n + 1);
  switch (rng.int(8)) {
    case 0: {
      if (input.length === 0) return randomBytes(rng, 8);
      const copy = Buffer.from(input);
      copy[rng.int(copy.length)] ^= 1 << rng.int(8);
      return copy;
    }
    case 1: {
      const i = at(input.length);
      return Buffer.concat([input.subarray(0, i), randomBytes(rng, 16), input.subarray(i)]);
    }
    case 2: {
      const i = at(input.length);
      return Buffer.concat([input.subarray(0, i), input.subarray(i + 1 + rng.int(8))]);
    }
    case 3:
      return input.subarray(0, at(input.length));
    case 4: {
      const i = at(input.length);
      const j = i + at(input.length - i);
      const times = 1 + rng.int(4);
      return Buffer.concat([input.subarray(0, j), ...Array<Buffer>(times).fill(input.subarray(i, j)), input.subarray(j)]);
    }
    case 5: {
      const other = samples.length ? rng.pick(samples) : randomBytes(rng, 32);
      return Buffer.concat([input.subarray(0, at(input.length)), other.subarray(at(other.length))]);
    }
    case 6: {
      const i = at(input.length);
      return Buffer.concat([input.subarray(0, i), rng.pick(INVALID_UTF8), input.subarray(i)]);
    }
    default: {
      const i = at(input.length);
      return Buffer.concat([input.subarray(0, i), Buffer.from(rng.pick(ODD_STRINGS)), input.subarray(i)]);
    }
  }
}

/** `rounds` byte mutations in a row. */
export function mutateBytesTimes(rng: Random, input: Buffer, rounds: number, samples: readonly Buffer[] = []): Buffer {
  let out = input;
  for (let i = 0; i < rounds; i++) out = mutateBytes(rng, out, samples);
  return out;
}

/** A JSON value of the wrong type for wherever it lands. */
export function wrongValue(rng: Random, cap?: number): unknown {
  switch (rng.int(9)) {
    case 0:
      return null;
    case 1:
      return rng.next() < 0.5;
    case 2:
      return rng.pick(BOUNDARY_NUMBERS);
    case 3:
      return oddString(rng, cap);
    case 4:
      return [];
    case 5:
      return {};
    case 6:
      return [oddString(rng, 64), rng.pick(BOUNDARY_NUMBERS)];
    case 7:
      return { [rng.pick(ODD_STRINGS)]: oddString(rng, 64) };
    default:
      return nested(rng.int(40) + 1);
  }
}

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? { a: value } : [value];
  return value;
}

/**
 * One structural mutation of a JSON value: a field replaced by a wrong type, a
 * boundary value or an odd string, a field dropped, an unknown or `__proto__` key
 * added, or the whole value swapped.
 */
export function mutateJson(rng: Random, value: unknown, cap?: number): unknown {
  if (value === null || typeof value !== 'object' || rng.int(8) === 0) return wrongValue(rng, cap);
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const choice = rng.int(4);
  if (choice === 0 && keys.length) {
    const key = rng.pick(keys);
    if (Array.isArray(copy)) copy.splice(Number(key), 1);
    else delete copy[key];
  } else if (choice === 1) {
    if (Array.isArray(copy)) copy.push(wrongValue(rng, cap));
    else Object.defineProperty(copy, rng.pick(['__proto__', 'constructor', 'extra', '', 'a'.repeat(300)]), { value: wrongValue(rng, cap), enumerable: true, configurable: true, writable: true });
  } else if (keys.length) {
    const key = rng.pick(keys);
    (copy as Record<string, unknown>)[key] = mutateJson(rng, (copy as Record<string, unknown>)[key], cap);
  }
  return copy;
}

/** A JSON text of a mutated value, sometimes also damaged as bytes (broken syntax). */
export function mutatedJsonText(rng: Random, sample: unknown, cap?: number): Buffer {
  let value = sample;
  for (let i = 1 + rng.int(3); i > 0; i--) value = mutateJson(rng, value, cap);
  const text = Buffer.from(JSON.stringify(value) ?? 'undefined');
  return rng.int(4) === 0 ? mutateBytes(rng, text) : text;
}

/** Percent-encodes the UTF-8 bytes of `text` (lone surrogates become U+FFFD), keeping `keep` as is. */
export function percentEncode(text: string, keep = /[A-Za-z0-9_.~!$&'()*+,;=:@/-]/): string {
  let out = '';
  for (const byte of Buffer.from(text)) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && keep.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
