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
 * the reader's marker. History slots are kept out of the exact map, and every other
 * `<prefix>/#` filter (a user's ingress filter, at each first socket) is answered by
 * scanning that map alone: the original tested every history slot too (102 ms against
 * 54 ms in a profile with only 500 slots, bench/README.md).
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
    const user = HISTORY_TOPIC.exec(packet.topic)?.[1];
    // History slots (up to size x origins per user) stay out of the map the other filters scan.
    if (!user) {
      if (packet.payload.length === 0) byTopic.delete(packet.topic);
      else byTopic.set(packet.topic, { ...packet });
    } else {
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
    // `<prefix>/#` (a user's ingress filter, at each first socket): the retained messages
    // other than history, scanned by prefix; the original would test every one, history too.
    const prefixes = patterns.map((pattern) => (pattern.endsWith('/#') && !WILDCARD.test(pattern.slice(0, -2)) && !HISTORY_FILTER.test(pattern) && !pattern.includes('/internal/history/') ? pattern.slice(0, -2) : undefined));
    if (prefixes.every((prefix) => prefix !== undefined)) {
      const found: RetainedPacket[] = [];
      for (const [topic, packet] of byTopic) if (prefixes.some((prefix) => topic === prefix || topic.startsWith(prefix + '/'))) found.push(packet);
      return Readable.from(found);
    }
    if (patterns.some((pattern) => WILDCARD.test(pattern))) return combi(patterns);
    const found: RetainedPacket[] = [];
    for (const topic of patterns) {
      const packet = byTopic.get(topic) ?? byHistory.get(HISTORY_TOPIC.exec(topic)?.[1] ?? "")?.get(topic);
      if (packet) found.push(packet);
    }
    return Readable.from(found);
  };
  return persistence;
}
