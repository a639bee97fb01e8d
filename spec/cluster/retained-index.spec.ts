import { expect } from 'chai';
import { Readable } from 'node:stream';
import memoryPersistence from 'aedes-persistence';
import { indexRetained, type RetainedPersistence } from '../../src/cluster/retained-index.ts';

const newMemory = memoryPersistence as unknown as () => RetainedPersistence & { setup(broker: unknown): Promise<void> };

async function topicsOf(stream: Readable): Promise<string[]> {
  const topics: string[] = [];
  for await (const packet of stream) topics.push(`${(packet as { topic: string }).topic}=${String((packet as { payload: Buffer }).payload)}`);
  return topics.sort();
}

describe('indexRetained (the embedded broker answers exact filters from a map)', () => {
  async function store() {
    const persistence = indexRetained(newMemory());
    await persistence.setup({ id: 'test', subscribe: () => {}, unsubscribe: () => {}, publish: () => {} });
    const put = (topic: string, payload: string) => persistence.storeRetained({ topic, payload: Buffer.from(payload), cmd: 'publish', qos: 1, retain: true } as never);
    await put('w/deliver/1/3', 'a');
    await put('w/deliver/1/4', 'b');
    await put('w/sessions/s1', 'c');
    return { persistence, put };
  }

  it('finds exact topics, the newest message of each, and nothing for an unknown topic', async () => {
    const { persistence, put } = await store();
    await put('w/deliver/1/3', 'a2');
    expect(await topicsOf(persistence.createRetainedStreamCombi(['w/deliver/1/3', 'w/deliver/9/9']))).to.deep.equal(['w/deliver/1/3=a2']);
  });

  it('forgets a topic whose retained message was cleared (empty payload), as the original does', async () => {
    const { persistence, put } = await store();
    await put('w/deliver/1/4', '');
    expect(await topicsOf(persistence.createRetainedStreamCombi(['w/deliver/1/4']))).to.deep.equal([]);
    expect(await topicsOf(persistence.createRetainedStreamCombi(['w/deliver/#']))).to.deep.equal(['w/deliver/1/3=a']);
  });

  it('answers filters with wildcards from the original store, all of them at once', async () => {
    const { persistence } = await store();
    expect(await topicsOf(persistence.createRetainedStreamCombi(['w/deliver/+/3', 'w/sessions/#']))).to.deep.equal(['w/deliver/1/3=a', 'w/sessions/s1=c']);
  });

  it("answers a user's history filter from its own map: that user's slots only, cleared ones gone", async () => {
    const { persistence, put } = await store();
    await put('w/internal/history/1/3/0000000a/0', 'h0');
    await put('w/internal/history/1/3/0000000a/1', 'h1');
    await put('w/internal/history/1/3/0000000b/0', 'hb');
    await put('w/internal/history/1/33/0000000a/0', 'other');
    await put('w/internal/history/1/3/0000000a/1', '');
    expect(await topicsOf(persistence.createRetainedStreamCombi(['w/internal/history/1/3/#']))).to.deep.equal([
      'w/internal/history/1/3/0000000a/0=h0',
      'w/internal/history/1/3/0000000b/0=hb',
    ]);
    expect(await topicsOf(persistence.createRetainedStreamCombi(['w/internal/history/9/9/#']))).to.deep.equal([]);
    // The same answer as the original's scan.
    expect(await topicsOf(persistence.createRetainedStreamCombi(['w/internal/history/1/+/#']))).to.deep.equal([
      'w/internal/history/1/3/0000000a/0=h0',
      'w/internal/history/1/3/0000000b/0=hb',
      'w/internal/history/1/33/0000000a/0=other',
    ]);
  });

  it('answers a <prefix>/# filter from the exact map, by prefix, without the history slots', async () => {
    const { persistence, put } = await store();
    await put('w/ingress/1/3', 'i0');
    await put('w/ingress/1/3/mail', 'i1');
    await put('w/ingress/1/33', 'not-under');
    await put('w/internal/history/1/3/0000000a/0', 'h0');
    expect(await topicsOf(persistence.createRetainedStreamCombi(['w/ingress/1/3/#']))).to.deep.equal(['w/ingress/1/3/mail=i1', 'w/ingress/1/3=i0']);
    expect(await topicsOf(persistence.createRetainedStreamCombi(['w/deliver/#']))).to.deep.equal(['w/deliver/1/3=a', 'w/deliver/1/4=b']);
    // An exact filter still finds a history slot.
    expect(await topicsOf(persistence.createRetainedStreamCombi(['w/internal/history/1/3/0000000a/0']))).to.deep.equal(['w/internal/history/1/3/0000000a/0=h0']);
  });
});
