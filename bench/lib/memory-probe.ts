/**
 * Live memory of a child node, read through its inspector (the child runs with
 * `--inspect=127.0.0.1:<port>`): a full garbage collection first, then
 * `process.memoryUsage()`. RSS alone cannot say what a socket costs: V8 grows its
 * heap in chunks and keeps freed pages, so RSS per socket moved from 12 to 20 KiB
 * between levels of one run with the same code. After a full GC, the heap in use
 * and the external memory are what the live objects hold.
 *
 * Bench-only: nothing in wsmesh is changed or exposed for it. One DevTools session
 * per reading, closed at once, so an attached debugger costs nothing while the
 * bench measures rates.
 */
import WebSocket from 'ws';

export interface LiveMemory {
  /** After the GC, KiB. */
  rssKiB: number;
  heapUsedKiB: number;
  externalKiB: number;
}

const TIMEOUT_MS = 60_000;

async function debuggerUrl(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/json/list`);
  const targets = (await res.json()) as { webSocketDebuggerUrl?: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`the node's inspector on port ${port} lists no target: was it started with --inspect=127.0.0.1:${port}?`);
  return url;
}

/** Collects garbage in the child and reads its memory; `port` is its --inspect port. */
export async function liveMemory(port: number): Promise<LiveMemory> {
  const ws = new WebSocket(await debuggerUrl(port));
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let nextId = 1;
    const call = (method: string, params: object = {}): Promise<any> =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => reject(new Error(`the node's inspector did not answer ${method} within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
        const onMessage = (data: Buffer) => {
          const reply = JSON.parse(data.toString());
          if (reply.id !== id) return;
          clearTimeout(timer);
          ws.off('message', onMessage);
          if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
          else resolve(reply.result);
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify({ id, method, params }));
      });
    await call('HeapProfiler.collectGarbage');
    const result = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const usage = JSON.parse(result.result.value) as NodeJS.MemoryUsage;
    return { rssKiB: usage.rss / 1024, heapUsedKiB: usage.heapUsed / 1024, externalKiB: usage.external / 1024 };
  } finally {
    ws.terminate();
  }
}
