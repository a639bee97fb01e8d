/**
 * Checks a numbered stream as a client received it: every number pushed arrived
 * exactly once, and the numbers pushed through one node arrived in the order they
 * were pushed (the order a stream guarantees: docs/protocol.md, "Recovery").
 */
export interface StreamReport {
  received: number;
  missing: number[];
  duplicates: number[];
  outOfOrder: Array<{ via: string; after: number; got: number }>;
}

/** `via(n)`: the node that accepted push n. */
export function checkStream(received: number[], total: number, via: (n: number) => string): StreamReport {
  const seen = new Set<number>();
  const duplicates: number[] = [];
  const last = new Map<string, number>();
  const outOfOrder: StreamReport['outOfOrder'] = [];
  for (const n of received) {
    if (seen.has(n)) duplicates.push(n);
    seen.add(n);
    const node = via(n);
    const before = last.get(node) ?? 0;
    if (n < before) outOfOrder.push({ via: node, after: before, got: n });
    last.set(node, Math.max(before, n));
  }
  const missing: number[] = [];
  for (let n = 1; n <= total; n++) if (!seen.has(n)) missing.push(n);
  return { received: received.length, missing, duplicates, outOfOrder };
}
