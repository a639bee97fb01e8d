/**
 * The heap of a node process after a full GC, through its inspector (the node is
 * started with `--inspect=127.0.0.1:<port>`; Chrome DevTools Protocol over a
 * WebSocket). A heap read at an arbitrary moment carries whatever garbage the last
 * collections left, which on a 2-minute run is as large as any leak; after
 * `HeapProfiler.collectGarbage` only what is alive is counted. The node needs no
 * hook of its own for it.
 */
import WebSocket from 'ws';

const CALL_TIMEOUT_MS = 30_000;

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class InspectorHeap {
  private next = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.answer(JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } }));
    ws.on('close', () => this.failAll(new Error('the inspector connection closed')));
    ws.on('error', (error) => this.failAll(error));
  }

  /** Connects to the inspector listening on `port` (its one target: the node's main thread). */
  static async connect(port: number): Promise<InspectorHeap> {
    const res = await fetch(`http://127.0.0.1:${port}/json/list`);
    const targets = (await res.json()) as Array<{ webSocketDebuggerUrl?: string }>;
    const url = targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
    if (!url) throw new Error(`the inspector on port ${port} lists no target`);
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new InspectorHeap(ws);
  }

  /** Runs a full GC in the node, then reads the V8 heap used (bytes). */
  async usedAfterGc(): Promise<number> {
    await this.call('HeapProfiler.collectGarbage');
    const usage = (await this.call('Runtime.getHeapUsage')) as { usedSize: number };
    return usage.usedSize;
  }

  close(): void {
    this.ws.close();
  }

  private call(method: string): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`inspector: ${method} got no answer within ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ id, method }));
    });
  }

  private answer(message: { id?: number; result?: unknown; error?: { message: string } }): void {
    const waiting = message.id === undefined ? undefined : this.pending.get(message.id);
    if (!waiting) return; // an event, or an answer after its timeout
    this.pending.delete(message.id!);
    clearTimeout(waiting.timer);
    if (message.error) waiting.reject(new Error(`inspector: ${message.error.message}`));
    else waiting.resolve(message.result);
  }

  private failAll(error: Error): void {
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
      this.pending.delete(id);
    }
  }
}
