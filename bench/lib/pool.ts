/** Runs `task(0..total-1)` with at most `concurrency` in flight; the first failure stops the rest. */
export async function runPool(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < total) {
      const i = next++;
      try {
        await task(i);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.min(concurrency, total) }, worker);
  const results = await Promise.allSettled(workers);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/** Calls `report(done)` every `step` completions (and at the end). */
export function progressEvery(total: number, parts: number, report: (done: number) => void): (done: number) => void {
  const step = Math.max(1, Math.ceil(total / parts));
  return (done) => {
    if (done % step === 0 || done === total) report(done);
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
