/**
 * Read-your-writes across nodes, tried the way a new user would break it: no pause
 * between the steps. Each cycle logs in on one node, opens a socket on another at
 * once, and pushes on the first right after the 101 (delayDuration 0, so nothing
 * hides in the buffer's delay); then the same the other way round. A logout cycle
 * checks that a session ended with a 204 on one node is refused on the other at
 * once. Every cycle is counted and the counts are printed; the guarantee is 0
 * refused, 0 lost, 0 accepted after logout.
 */
import { expect } from 'chai';
import { login, openSocket, push, type TestSocket } from '../support/client.ts';
import { killAllBrokers } from '../support/broker.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats.ts';
import { BROKER_KINDS, requireBroker, startCluster, type TestCluster } from './support.ts';

const CYCLES = 200;
const LOGOUT_CYCLES = 50;

interface Counts {
  cycles: number;
  refused: number;
  lost: number;
  duplicated: number;
}

for (const kind of BROKER_KINDS) {
  describe(`read-your-writes races on the ${kind} broker`, function () {
    // On NATS each cycle's socket makes a replicated JetStream consumer (0.3-0.6 s).
    this.timeout(kind === 'nats' ? 600_000 : 120_000);
    let cluster: TestCluster;
    let nats: NatsCluster | undefined;
    const logs = { a: [] as string[], b: [] as string[] };
    const sockets: TestSocket[] = [];

    before(async function () {
      requireBroker(this, kind); // a missing binary fails under CI
      if (kind === 'nats') nats = await startNatsCluster();
      cluster = await startCluster(kind, ['--websockets.remote.delayDuration', '0'], { nats, logs });
    });
    afterEach(() => {
      for (const socket of sockets.splice(0)) socket.close();
    });
    after(async () => {
      await cluster?.stop();
      await nats?.stop();
      await killAllBrokers();
    });

    /** One direction: log in on `from`, open on `to`, push on `from`, with no pause. */
    async function cycles(fromKey: 'a' | 'b', toKey: 'a' | 'b', label: string): Promise<Counts> {
      const from = cluster.nodes[fromKey];
      const to = cluster.nodes[toKey];
      const counts: Counts = { cycles: 0, refused: 0, lost: 0, duplicated: 0 };
      const refusedAfterMs: number[] = [];
      for (let i = 0; i < CYCLES; i++) {
        counts.cycles++;
        const auth = await login(from.url);
        let socket: TestSocket;
        const openedAt = Date.now();
        try {
          socket = await openSocket(to.wsUrl, auth, '/ws/race', { connection: `c${i}` });
        } catch (error) {
          counts.refused++;
          refusedAfterMs.push(Date.now() - openedAt);
          const timeouts = [...logs.a, ...logs.b].filter((line) => line.includes('cluster.sync_timeout')).length;
          process.stdout.write(`      refused in cycle ${i}: ${(error as Error).message} after ${Date.now() - openedAt} ms (sync timeouts logged so far: ${timeouts})\n`);
          continue;
        }
        const text = `${label}-${i}`;
        const pushed = await push(from.url, { contextId: auth.contextId, userId: auth.userId, message: text });
        expect(pushed.status).to.equal(202);
        try {
          await socket.nextFrames(1, 2000);
        } catch {
          counts.lost++;
        }
        // Nothing else for this socket; a second copy would be a duplicate.
        await new Promise((resolve) => setImmediate(resolve));
        if (socket.frames.length > 1 || (socket.frames.length === 1 && socket.frames[0] !== text)) counts.duplicated++;
        socket.close();
        // Ends the session, so the per-user limit never fills over the cycles.
        await fetch(`${from.url}/api/logout`, { method: 'POST', headers: { cookie: auth.cookie } });
      }
      // Records the broker sent after a later marker, which a lookup waited for (NATS past max_ack_pending).
      const late = logs[toKey].filter((line) => line.includes('cluster.session_late')).length;
      process.stdout.write(`      ${kind} ${label}: ${counts.cycles} cycles, ${counts.refused} refused, ${counts.lost} lost, ${counts.duplicated} duplicated; ${late} late records waited for on ${toKey}\n`);
      expectRefusals(counts.refused, refusedAfterMs);
      return counts;
    }

    /** None refused, on every broker; the time each refusal took is printed above (a fast one is an ordering gap, a slow one a record held back past the wait). */
    function expectRefusals(refused: number, afterMs: number[]): void {
      expect(refused, `refused (after ${afterMs.join(', ') || '-'} ms)`).to.equal(0);
    }

    it(`opens and delivers in ${CYCLES} cycles of log in on a, open on b, push on a: 0 refused, 0 lost`, async () => {
      const { cycles: done, lost, duplicated } = await cycles('a', 'b', 'a->b');
      expect({ cycles: done, lost, duplicated }).to.deep.equal({ cycles: CYCLES, lost: 0, duplicated: 0 });
    });

    it(`and in ${CYCLES} cycles the other way round: log in on b, open on a, push on b`, async () => {
      const { cycles: done, lost, duplicated } = await cycles('b', 'a', 'b->a');
      expect({ cycles: done, lost, duplicated }).to.deep.equal({ cycles: CYCLES, lost: 0, duplicated: 0 });
    });

    it(`refuses a session on b at once after its logout on a answered 204 (${LOGOUT_CYCLES} cycles)`, async () => {
      const { a, b } = cluster.nodes;
      let acceptedAfterLogout = 0;
      let refusedBeforeLogout = 0;
      const refusedAfterMs: number[] = [];
      for (let i = 0; i < LOGOUT_CYCLES; i++) {
        const auth = await login(a.url);
        const askedAt = Date.now();
        const before = await fetch(`${b.url}/api/session?session=${auth.session}`, { headers: { cookie: auth.cookie } });
        if (before.status !== 200) {
          refusedAfterMs.push(Date.now() - askedAt);
          refusedBeforeLogout++;
          process.stdout.write(`      refused before logout in cycle ${i}: ${before.status} ${await before.text()}\n`);
        }
        const out = await fetch(`${a.url}/api/logout?session=${auth.session}`, { method: 'POST', headers: { cookie: auth.cookie } });
        expect(out.status).to.equal(204);
        const after = await fetch(`${b.url}/api/session?session=${auth.session}`, { headers: { cookie: auth.cookie } });
        if (after.status !== 403) acceptedAfterLogout++;
      }
      process.stdout.write(`      ${kind} logout: ${LOGOUT_CYCLES} cycles, ${refusedBeforeLogout} refused before, ${acceptedAfterLogout} accepted after logout\n`);
      // Accepted after a logout: never, on any broker.
      expect(acceptedAfterLogout, 'accepted after logout').to.equal(0);
      expectRefusals(refusedBeforeLogout, refusedAfterMs);
    });
  });
}
