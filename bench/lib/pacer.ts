/**
 * An open-loop offer: `total` sends at `rate` per second, each due at a fixed time from
 * the start, at most `inflight` unanswered at once. A send that waits for a free slot
 * keeps its due time (the bench counts latency from it), so a server that cannot keep
 * up shows it in the percentiles instead of slowing the offer down. The first failed
 * send rejects the whole run.
 */
export interface PaceOptions {
  total: number;
  rate: number;
  inflight: number;
  /** One send; `due` is its due time on the performance.now() clock. */
  send(seq: number, due: number): Promise<void>;
}

/** Resolves once every send was answered: when it started, and how many went out more than 1 ms late. */
export function pace({ total, rate, inflight: maxInflight, send }: PaceOptions): Promise<{ start: number; late: number }> {
  const interval = 1000 / rate;
  const start = performance.now() + 5;
  let next = 0;
  let inflight = 0;
  let late = 0;
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let failed = false;
    const pump = () => {
      if (failed) return;
      clearTimeout(timer);
      timer = undefined;
      const now = performance.now();
      while (next < total && inflight < maxInflight && start + next * interval <= now) {
        const seq = next++;
        const due = start + seq * interval;
        if (now - due > 1) late++;
        inflight++;
        send(seq, due).then(
          () => {
            inflight--;
            if (next >= total && inflight === 0) resolve({ start, late });
            else pump();
          },
          (error: unknown) => {
            failed = true;
            clearTimeout(timer);
            reject(error);
          },
        );
      }
      if (next < total && inflight < maxInflight) timer = setTimeout(pump, Math.max(0, start + next * interval - performance.now()));
    };
    pump();
  });
}
