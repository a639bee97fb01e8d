import { expect } from 'chai';
import { SocketIndex, type ConnectionHandle } from '../../src/delivery/socket-index.ts';

function handle(contextId: number, userId: number, connectionId: string, sessionId = 's1'): ConnectionHandle {
  return { contextId, userId, connectionId, sessionId, path: '/ws/x', prefix: '/ws', remoteAddress: '127.0.0.1', connectedAt: 0, actor: {} as never };
}

describe('SocketIndex', () => {
  describe('#add', () => {
    it('indexes by user and by session and counts', () => {
      const index = new SocketIndex();
      const a = handle(1, 3, 'a');
      const b = handle(1, 3, 'b', 's2');
      index.add(a);
      index.add(b);
      index.add(handle(1, 4, 'a'));
      expect(index.size).to.equal(3);
      expect([...index.ofUser(1, 3)]).to.deep.equal([a, b]);
      expect(index.countOfUser(1, 3)).to.equal(2);
      expect([...index.ofSession('s2')]).to.deep.equal([b]);
      expect(index.get(1, 3, 'b')).to.equal(b);
    });

    it('refuses a second handle with the same connection id for the same user', () => {
      const index = new SocketIndex();
      index.add(handle(1, 3, 'a'));
      expect(() => index.add(handle(1, 3, 'a'))).to.throw(/already indexed/);
    });

    it('keeps users of different contexts apart', () => {
      const index = new SocketIndex();
      index.add(handle(1, 3, 'a'));
      index.add(handle(2, 3, 'a'));
      expect(index.countOfUser(1, 3)).to.equal(1);
      expect(index.countOfUser(2, 3)).to.equal(1);
    });
  });

  describe('#remove', () => {
    it('removes exactly the handle given and cleans empty buckets', () => {
      const index = new SocketIndex();
      const a = handle(1, 3, 'a');
      index.add(a);
      expect(index.remove(handle(1, 3, 'a'))).to.equal(false);
      expect(index.remove(a)).to.equal(true);
      expect(index.remove(a)).to.equal(false);
      expect(index.size).to.equal(0);
      expect([...index.ofUser(1, 3)]).to.deep.equal([]);
      expect([...index.ofSession('s1')]).to.deep.equal([]);
      expect([...index.all()]).to.deep.equal([]);
    });
  });
});
