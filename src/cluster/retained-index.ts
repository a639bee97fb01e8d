/**
 * The embedded broker's retained messages, found by exact topic in O(1).
 *
 * aedes's in-memory persistence answers every SUBSCRIBE by testing each retained
 * message against each filter: O(retained) per subscription. A node subscribes to a
 * user's delivery topic (no wildcard) when the user's first socket opens, and holds
 * a retained message per session and per registry entry, so each new user cost a
 * scan of all of them (measured with 3,800 users: 100-130 handshakes/s for first
 * sockets against 700/s for later ones). This wraps the default persistence: it
 * keeps a topic -> packet map beside it, answers filters without wildcards from the
 * map, and hands every filter with `+` or `#` to the original.
 */
import { Readable } from 'node:stream';

interface RetainedPacket {
  topic: string;
  payload: Buffer | string;
}

/** The part of aedes's persistence (callback flavour) that retained messages go through. */
export interface RetainedPersistence {
  storeRetained(packet: RetainedPacket, cb?: (error: Error | null) => void): unknown;
  createRetainedStreamCombi(patterns: string[]): Readable;
}

const WILDCARD = /[+#]/;

/** Patches `persistence` in place and returns it (aedes takes the instance as its `persistence` option). */
export function indexRetained<P extends RetainedPersistence>(persistence: P): P {
  const byTopic = new Map<string, RetainedPacket>();
  const store = persistence.storeRetained.bind(persistence);
  const combi = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.storeRetained = (packet, cb) => {
    // As the original does: an empty payload deletes the topic's retained message.
    if (packet.payload.length === 0) byTopic.delete(packet.topic);
    else byTopic.set(packet.topic, { ...packet });
    return store(packet, cb);
  };
  persistence.createRetainedStreamCombi = (patterns) => {
    if (patterns.some((pattern) => WILDCARD.test(pattern))) return combi(patterns);
    const found: RetainedPacket[] = [];
    for (const topic of patterns) {
      const packet = byTopic.get(topic);
      if (packet) found.push(packet);
    }
    return Readable.from(found);
  };
  return persistence;
}
