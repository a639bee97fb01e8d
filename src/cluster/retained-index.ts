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
 *
 * A user's history (`<root>/internal/history/<ctx>/<user>/#`, read when a socket of
 * the user recovers) is a `#` filter too, but answered from a second map, by user:
 * the original's scan took 564 ms to hand over one user's entries with 1M history
 * entries retained (bench/history-cost.ts), and streamed them after the SUBACK, past
 * the reader's marker.
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
/** A history slot's topic, and the user filter's prefix it falls under. */
const HISTORY_TOPIC = /^(.+\/internal\/history\/\d+\/\d+)\/[^/]+\/[^/]+$/;
const HISTORY_FILTER = /^(.+\/internal\/history\/\d+\/\d+)\/#$/;

/** Patches `persistence` in place and returns it (aedes takes the instance as its `persistence` option). */
export function indexRetained<P extends RetainedPersistence>(persistence: P): P {
  const byTopic = new Map<string, RetainedPacket>();
  const byHistory = new Map<string, Map<string, RetainedPacket>>();
  const store = persistence.storeRetained.bind(persistence);
  const combi = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.storeRetained = (packet, cb) => {
    // As the original does: an empty payload deletes the topic's retained message.
    if (packet.payload.length === 0) byTopic.delete(packet.topic);
    else byTopic.set(packet.topic, { ...packet });
    const user = HISTORY_TOPIC.exec(packet.topic)?.[1];
    if (user) {
      let slots = byHistory.get(user);
      if (packet.payload.length === 0) {
        slots?.delete(packet.topic);
        if (slots?.size === 0) byHistory.delete(user);
      } else {
        if (!slots) byHistory.set(user, (slots = new Map()));
        slots.set(packet.topic, { ...packet });
      }
    }
    return store(packet, cb);
  };
  persistence.createRetainedStreamCombi = (patterns) => {
    const users = patterns.map((pattern) => HISTORY_FILTER.exec(pattern)?.[1]);
    if (users.every((user) => user !== undefined && !WILDCARD.test(user))) {
      return Readable.from(users.flatMap((user) => [...(byHistory.get(user!)?.values() ?? [])]));
    }
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
