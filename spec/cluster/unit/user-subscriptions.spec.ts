import { expect } from 'chai';
import { UserSubscriptions, type SubscribeOutcome, type Subscriber } from '../../../src/cluster/user-subscriptions.ts';

/** A broker link whose SUBACKs are answered by hand, recording every packet in order. */
class FakeSubscriber implements Subscriber {
  readonly packets: string[] = [];
  private readonly pending: Array<{ topics: string[]; resolve: (outcome: SubscribeOutcome) => void }> = [];

  subscribe(topics: string[]): Promise<SubscribeOutcome> {
    this.packets.push(`SUBSCRIBE ${topics.join(',')}`);
    return new Promise((resolve) => this.pending.push({ topics, resolve }));
  }

  unsubscribe(topics: string[]): void {
    this.packets.push(`UNSUBSCRIBE ${topics.join(',')}`);
  }

  /** Answers the oldest SUBSCRIBE still waiting. */
  suback(outcome: SubscribeOutcome = 'granted'): string[] {
    const next = this.pending.shift();
    if (!next) throw new Error('no SUBSCRIBE waiting');
    next.resolve(outcome);
    return next.topics;
  }

  get waiting(): number {
    return this.pending.length;
  }
}

const topicOf = (contextId: number, userId: number) => `wsmesh/internal/deliver/${contextId}/${userId}`;
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function track<T>(promise: Promise<T>): { settled: boolean; value?: T } {
  const state: { settled: boolean; value?: T } = { settled: false };
  void promise.then((value) => {
    state.settled = true;
    state.value = value;
  });
  return state;
}

function setup() {
  const broker = new FakeSubscriber();
  return { broker, subs: new UserSubscriptions(broker, (contextId, userId) => [topicOf(contextId, userId)]) };
}

describe('UserSubscriptions', () => {
  it("subscribes to the user's delivery topic on the first want", () => {
    const { broker, subs } = setup();
    subs.want(1, 3);
    expect(broker.packets).to.deep.equal(['SUBSCRIBE wsmesh/internal/deliver/1/3']);
    expect(subs.size).to.equal(1);
    expect(subs.topics()).to.deep.equal(['wsmesh/internal/deliver/1/3']);
  });

  it('does not subscribe again on a second want for the same user (a second socket)', () => {
    const { broker, subs } = setup();
    subs.want(1, 3);
    subs.want(1, 3);
    expect(broker.packets).to.have.length(1);
    expect(subs.size).to.equal(1);
  });

  it('keeps users apart: same user id in another context, another user in the same context', () => {
    const { broker, subs } = setup();
    subs.want(1, 3);
    subs.want(2, 3);
    subs.want(1, 4);
    expect(broker.packets).to.deep.equal(['SUBSCRIBE wsmesh/internal/deliver/1/3', 'SUBSCRIBE wsmesh/internal/deliver/2/3', 'SUBSCRIBE wsmesh/internal/deliver/1/4']);
    expect(subs.size).to.equal(3);
  });

  it('ready waits for the SUBACK, then resolves granted', async () => {
    const { broker, subs } = setup();
    subs.want(1, 3);
    const ready = track(subs.ready(1, 3));
    await settle();
    expect(ready.settled).to.equal(false);
    expect(broker.suback('granted')).to.deep.equal(['wsmesh/internal/deliver/1/3']);
    await settle();
    expect(ready.value).to.equal('granted');
  });

  it('ready of a second socket waits for the same, first SUBACK', async () => {
    const { broker, subs } = setup();
    subs.want(1, 3);
    const first = track(subs.ready(1, 3));
    subs.want(1, 3);
    const second = track(subs.ready(1, 3));
    broker.suback('granted');
    await settle();
    expect([first.value, second.value]).to.deep.equal(['granted', 'granted']);
    expect(broker.waiting).to.equal(0);
  });

  it('ready resolves offline when the link dropped before the SUBACK; the user stays wanted', async () => {
    const { broker, subs } = setup();
    subs.want(1, 3);
    const ready = track(subs.ready(1, 3));
    broker.suback('offline');
    await settle();
    expect(ready.value).to.equal('offline');
    expect(subs.size).to.equal(1); // still wanted: the next connection subscribes it
    expect(subs.topics()).to.deep.equal(['wsmesh/internal/deliver/1/3']);
  });

  it('ready resolves refused on a SUBACK 0x80, and the user is forgotten so the next socket tries again', async () => {
    const { broker, subs } = setup();
    subs.want(1, 3);
    const ready = track(subs.ready(1, 3));
    broker.suback('refused');
    await settle();
    expect(ready.value).to.equal('refused');
    expect(subs.size).to.equal(0);
    expect(subs.topics()).to.deep.equal([]);
    subs.want(1, 3);
    expect(broker.packets).to.deep.equal(['SUBSCRIBE wsmesh/internal/deliver/1/3', 'SUBSCRIBE wsmesh/internal/deliver/1/3']);
    broker.suback('granted');
    expect(await subs.ready(1, 3)).to.equal('granted');
  });

  it('a refusal of a superseded SUBSCRIBE does not forget the newer one', async () => {
    const { broker, subs } = setup();
    subs.want(1, 3);
    subs.unwant(1, 3);
    subs.want(1, 3);
    broker.suback('refused'); // the first SUBSCRIBE
    await settle();
    expect(subs.size).to.equal(1);
    broker.suback('granted');
    expect(await subs.ready(1, 3)).to.equal('granted');
  });

  it('ready resolves offline at once for a user not wanted', async () => {
    const { subs } = setup();
    expect(await subs.ready(1, 3)).to.equal('offline');
  });

  it('unsubscribes on unwant after the last socket, and forgets the user', async () => {
    const { broker, subs } = setup();
    subs.want(1, 3);
    broker.suback();
    subs.unwant(1, 3);
    expect(broker.packets).to.deep.equal(['SUBSCRIBE wsmesh/internal/deliver/1/3', 'UNSUBSCRIBE wsmesh/internal/deliver/1/3']);
    expect(subs.size).to.equal(0);
    expect(subs.topics()).to.deep.equal([]);
    expect(await subs.ready(1, 3)).to.equal('offline');
  });

  it('ignores unwant for a user it does not want (no UNSUBSCRIBE, no throw)', () => {
    const { broker, subs } = setup();
    subs.unwant(1, 3);
    subs.want(1, 3);
    subs.unwant(1, 3);
    subs.unwant(1, 3);
    expect(broker.packets).to.deep.equal(['SUBSCRIBE wsmesh/internal/deliver/1/3', 'UNSUBSCRIBE wsmesh/internal/deliver/1/3']);
  });

  it('unwant of one user leaves the others subscribed', () => {
    const { subs } = setup();
    subs.want(1, 3);
    subs.want(1, 4);
    subs.unwant(1, 3);
    expect(subs.topics()).to.deep.equal(['wsmesh/internal/deliver/1/4']);
  });

  it('subscribes again when the user comes back while the UNSUBSCRIBE is in flight (UNSUBSCRIBE then SUBSCRIBE)', async () => {
    const { broker, subs } = setup();
    subs.want(1, 3);
    broker.suback();
    subs.unwant(1, 3);
    subs.want(1, 3);
    expect(broker.packets).to.deep.equal([
      'SUBSCRIBE wsmesh/internal/deliver/1/3',
      'UNSUBSCRIBE wsmesh/internal/deliver/1/3',
      'SUBSCRIBE wsmesh/internal/deliver/1/3',
    ]);
    const ready = track(subs.ready(1, 3));
    await settle();
    expect(ready.settled).to.equal(false); // waits for the new SUBACK, not the old one
    broker.suback();
    await settle();
    expect(ready.value).to.equal('granted');
  });

  it('a user wanted again before the first SUBACK waits for its own, second SUBACK', async () => {
    const { broker, subs } = setup();
    subs.want(1, 3);
    subs.unwant(1, 3);
    subs.want(1, 3);
    const ready = track(subs.ready(1, 3));
    broker.suback('granted'); // the first, superseded SUBSCRIBE
    await settle();
    expect(ready.settled).to.equal(false);
    broker.suback('offline');
    await settle();
    expect(ready.value).to.equal('offline');
  });

  it('resubscribed() makes every wanted topic ready (a new connection subscribed them all)', async () => {
    const { broker, subs } = setup();
    subs.want(1, 3);
    subs.want(1, 4);
    broker.suback('offline');
    subs.resubscribed();
    expect(await subs.ready(1, 3)).to.equal('granted');
    expect(await subs.ready(1, 4)).to.equal('granted');
    expect(broker.packets).to.have.length(2); // the connection subscribed them, not this class
  });

  it('resubscribed() does not make an unwanted user ready', async () => {
    const { subs } = setup();
    subs.want(1, 3);
    subs.unwant(1, 3);
    subs.resubscribed();
    expect(await subs.ready(1, 3)).to.equal('offline');
    expect(subs.size).to.equal(0);
  });
});
