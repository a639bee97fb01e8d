/**
 * Delta debugging (Zeller's ddmin) over a list, and over a fuzz input: first its
 * parts, then the bytes of each part. `fails` replays a candidate against the real
 * target; the result is a smaller input that still fails the same way.
 */
import type { FuzzInput } from './engine.ts';

/** The smallest sub-list ddmin finds that still `fails`, within `budget` replays. */
export async function ddmin<T>(items: readonly T[], fails: (candidate: T[]) => Promise<boolean>, budget: { left: number }): Promise<T[]> {
  let current = [...items];
  let chunks = 2;
  while (current.length >= 2 && budget.left > 0) {
    const size = Math.ceil(current.length / chunks);
    let reduced = false;
    for (let start = 0; start < current.length && budget.left > 0; start += size) {
      // Try the complement: everything but this chunk.
      const complement = [...current.slice(0, start), ...current.slice(start + size)];
      budget.left--;
      if (complement.length && (await fails(complement))) {
        current = complement;
        chunks = Math.max(chunks - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (chunks >= current.length) break;
      chunks = Math.min(chunks * 2, current.length);
    }
  }
  if (current.length === 1 && budget.left > 0 && items.length > 0) {
    budget.left--;
    if (await fails([])) return [];
  }
  return current;
}

/** Shrinks the parts list, each part's bytes, then each meta value's characters; `budget` bounds the replays. */
export async function shrinkInput(input: FuzzInput, fails: (candidate: FuzzInput) => Promise<boolean>, budget = 150): Promise<FuzzInput> {
  const left = { left: budget };
  const parts = await ddmin(input.parts, (candidate) => fails({ ...input, parts: candidate }), left);
  let current: FuzzInput = { ...input, parts };
  for (let i = 0; i < current.parts.length && left.left > 0; i++) {
    const bytes = [...current.parts[i]];
    const smaller = await ddmin(bytes, (candidate) => fails(withPart(current, i, Buffer.from(candidate))), left);
    current = withPart(current, i, Buffer.from(smaller));
  }
  for (const key of Object.keys(current.meta)) {
    if (left.left <= 0) break;
    const chars = [...current.meta[key]];
    const smaller = await ddmin(chars, (candidate) => fails({ ...current, meta: { ...current.meta, [key]: candidate.join('') } }), left);
    current = { ...current, meta: { ...current.meta, [key]: smaller.join('') } };
  }
  return current;
}

function withPart(input: FuzzInput, index: number, part: Buffer): FuzzInput {
  const parts = [...input.parts];
  parts[index] = part;
  return { ...input, parts };
}
