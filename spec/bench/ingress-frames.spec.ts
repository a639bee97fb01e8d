import { expect } from 'chai';
import { IngressPlan, IngressRun } from '../../bench/lib/ingress-frames.ts';

/** The frame of `message` as FrameRouter hands it to a run. */
const fields = (message: string) => message.split('|');

describe('IngressPlan', () => {
  describe('#userOf', () => {
    it('sends each device to its U users in turn', () => {
      const plan = new IngressPlan(10, 4, 3);
      // Device 1's messages are seq 1, 5, 9, 13: users 3, 4, 5, 3.
      expect([0, 1, 2, 3].map((k) => plan.userOf(plan.seqOf(1, k)))).to.deep.equal([3, 4, 5, 3]);
      expect([0, 1, 2, 3].map((k) => plan.deviceOf(plan.seqOf(1, k)))).to.deep.equal([1, 1, 1, 1]);
    });

    it('wraps around the users when D * U exceeds K', () => {
      const plan = new IngressPlan(5, 4, 2);
      expect(plan.userOf(plan.seqOf(3, 0))).to.equal(1);
      expect(plan.userOf(plan.seqOf(3, 1))).to.equal(2);
    });
  });
});

describe('IngressRun', () => {
  const plan = new IngressPlan(4, 2, 2);
  // seq 0: device 0 -> user 0; seq 1: device 1 -> user 2; seq 2: device 0 -> user 1; seq 3: device 1 -> user 3.
  const socketA = (seq: number) => plan.userOf(seq);
  const socketB = (seq: number) => plan.users + plan.userOf(seq);

  describe('#frame', () => {
    it('counts a message complete once it arrived on both sockets of its user', () => {
      const run = new IngressRun('t', 4, plan);
      for (let seq = 0; seq < 4; seq++) {
        const message = run.message(seq, 100, 64);
        run.frame(socketA(seq), fields(message), 101);
        run.frame(socketB(seq), fields(message), 102 + seq);
      }
      expect(run.frames).to.equal(8);
      expect(run.missing).to.equal(0);
      expect([...run.sorted('A')]).to.deep.equal([1, 1, 1, 1]);
      expect([...run.sorted('B')]).to.deep.equal([2, 3, 4, 5]);
      expect(run.lastArrival).to.equal(105);
    });

    it('counts a second copy on the same socket as a duplicate, not as an arrival', () => {
      const run = new IngressRun('t', 1, plan);
      const message = fields(run.message(0, 0, 64));
      for (let i = 0; i < 300; i++) run.frame(socketA(0), message, 1);
      expect(run.frames).to.equal(1);
      expect(run.duplicates).to.equal(299);
      expect(run.missing).to.equal(1);
    });

    it('counts a frame on another user\'s socket as misrouted', () => {
      const run = new IngressRun('t', 2, plan);
      run.frame(socketA(1), fields(run.message(0, 0, 64)), 1);
      run.frame(socketA(0), ['t', '7', '0', ''], 1);
      expect(run.misrouted).to.equal(2);
      expect(run.frames).to.equal(0);
    });

    it('counts a frame that came after a later message of the same device on that socket as reordered', () => {
      const plan1 = new IngressPlan(1, 1, 1);
      const run = new IngressRun('t', 3, plan1);
      for (const seq of [0, 2, 1]) run.frame(0, fields(run.message(seq, 0, 64)), 1);
      expect(run.reordered).to.equal(1);
      expect(run.frames).to.equal(3);
    });
  });
});
