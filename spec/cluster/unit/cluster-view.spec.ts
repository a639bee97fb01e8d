import { expect } from 'chai';
import type { PresencePayload, RegistrySocket } from '../../../src/cluster/codec.ts';
import { ClusterView } from '../../../src/cluster/cluster-view.ts';
import { compilePathFilter, MATCH_EVERY_SOCKET } from '../../../src/delivery/path-filter.ts';

const presence = (node: string, epoch: string, state: 'online' | 'offline' = 'online', since = 0): PresencePayload => ({ v: 1, node, epoch, route: `R-${node}`, state, since, n: 0 });
const sock = (c: string, p = '/ws/a', t = 1): RegistrySocket => ({ c, p, a: '10.0.0.9', t });

/** A view of node n1 that knows n2 (epoch e2) online. */
function setup() {
  const view = new ClusterView('n1');
  view.applyPresence('n2', presence('n2', 'e2'));
  return view;
}

describe('ClusterView', () => {
  describe('applyPresence', () => {
    it("reports 'online' for a node's first online presence, nothing for a repeat", () => {
      const view = new ClusterView('n1');
      expect(view.applyPresence('n2', presence('n2', 'e2'))).to.equal('online');
      expect(view.applyPresence('n2', presence('n2', 'e2'))).to.equal(undefined);
      expect(view.isLive('n2', 'e2')).to.equal(true);
      expect(view.epochOf('n2')).to.equal('e2');
    });

    it("reports 'offline' when an online node goes offline, nothing for a repeat", () => {
      const view = setup();
      expect(view.applyPresence('n2', presence('n2', 'e2', 'offline'))).to.equal('offline');
      expect(view.applyPresence('n2', presence('n2', 'e2', 'offline'))).to.equal(undefined);
      expect(view.isLive('n2', 'e2')).to.equal(false);
      expect(view.epochOf('n2')).to.equal(undefined);
    });

    it("reports nothing for the offline of a node never seen online, and 'online' when it then comes", () => {
      const view = new ClusterView('n1');
      expect(view.applyPresence('n2', presence('n2', 'e2', 'offline'))).to.equal(undefined);
      expect(view.knownNodes()).to.deep.equal(['n2']);
      expect(view.applyPresence('n2', presence('n2', 'e2'))).to.equal('online');
    });

    it("reports 'online' again for a restart seen without its offline (a new epoch)", () => {
      const view = setup();
      expect(view.applyPresence('n2', presence('n2', 'e3'))).to.equal('online');
      expect(view.isLive('n2', 'e2')).to.equal(false);
      expect(view.isLive('n2', 'e3')).to.equal(true);
    });

    it("forgets a node whose presence was deleted, reporting 'offline' if it was online", () => {
      const view = setup();
      expect(view.applyPresence('n2', undefined)).to.equal('offline');
      expect(view.knownNodes()).to.deep.equal([]);
      expect(view.applyPresence('n2', undefined)).to.equal(undefined);
    });

    it('ignores presence of itself (its own state is the local index)', () => {
      const view = new ClusterView('n1');
      expect(view.applyPresence('n1', presence('n1', 'e1'))).to.equal(undefined);
      expect(view.isLive('n1', 'e1')).to.equal(false);
      expect(view.liveNodes()).to.deep.equal([]);
      expect(view.liveNodeIds()).to.deep.equal([]);
    });

    it('is live only for the epoch of its current online presence', () => {
      const view = setup();
      expect(view.isLive('n2', 'e2')).to.equal(true);
      expect(view.isLive('n2', 'e1')).to.equal(false);
      expect(view.isLive('n3', 'e2')).to.equal(false);
    });
  });

  describe('registry and epochs', () => {
    it("counts a node's sockets of a user when their epoch is the node's current presence epoch", () => {
      const view = setup();
      view.applyRegistry('n2', 'e2', 1, 3, [sock('a'), sock('b')]);
      expect(view.countOfUser(1, 3)).to.equal(2);
      expect(view.hasConnection(1, 3, 'a')).to.equal(true);
      expect(view.exists(1, 3, MATCH_EVERY_SOCKET)).to.equal(true);
    });

    it('ignores entries of an epoch other than the current one (a dead or earlier process)', () => {
      const view = setup();
      view.applyRegistry('n2', 'e1', 1, 3, [sock('a')]);
      expect(view.countOfUser(1, 3)).to.equal(0);
      expect(view.hasConnection(1, 3, 'a')).to.equal(false);
      expect(view.exists(1, 3, MATCH_EVERY_SOCKET)).to.equal(false);
      expect(view.nodesFor(1, 3, MATCH_EVERY_SOCKET)).to.deep.equal([]);
      expect(view.list({})).to.deep.equal([]);
      expect(view.liveNodes()).to.deep.equal([{ id: 'n2', route: 'R-n2', since: 0, sockets: 0 }]);
      expect(view.liveNodeIds()).to.deep.equal(['n2']);
    });

    it('lists entries of a non-live epoch as stale, and forgets them once their deletion is applied', () => {
      const view = setup();
      view.applyRegistry('n2', 'e1', 1, 3, [sock('a')]);
      view.applyRegistry('n2', 'e2', 1, 4, [sock('b')]);
      expect(view.staleEntries('n2')).to.deep.equal([{ node: 'n2', epoch: 'e1', contextId: 1, userId: 3 }]);
      view.applyRegistry('n2', 'e1', 1, 3, undefined);
      expect(view.staleEntries('n2')).to.deep.equal([]);
      expect(view.countOfUser(1, 4)).to.equal(1);
    });

    it('counts entries that came before their presence once the presence arrives', () => {
      const view = new ClusterView('n1');
      view.applyRegistry('n2', 'e2', 1, 3, [sock('a')]);
      expect(view.countOfUser(1, 3)).to.equal(0);
      expect(view.knownNodes()).to.deep.equal(['n2']);
      view.applyPresence('n2', presence('n2', 'e2'));
      expect(view.countOfUser(1, 3)).to.equal(1);
    });

    it("stops counting a node's sockets when it goes offline, and lists them as stale", () => {
      const view = setup();
      view.applyRegistry('n2', 'e2', 1, 3, [sock('a')]);
      view.applyPresence('n2', presence('n2', 'e2', 'offline'));
      expect(view.countOfUser(1, 3)).to.equal(0);
      expect(view.hasConnection(1, 3, 'a')).to.equal(false);
      expect(view.liveNodes()).to.deep.equal([]);
      expect(view.staleEntries('n2')).to.deep.equal([{ node: 'n2', epoch: 'e2', contextId: 1, userId: 3 }]);
    });

    it('stops counting the old epoch after a restart: the new process starts with no sockets', () => {
      const view = setup();
      view.applyRegistry('n2', 'e2', 1, 3, [sock('a')]);
      view.applyPresence('n2', presence('n2', 'e3'));
      expect(view.countOfUser(1, 3)).to.equal(0);
      view.applyRegistry('n2', 'e3', 1, 3, [sock('b')]);
      expect(view.list({}).map((r) => r.connectionId)).to.deep.equal(['b']);
    });

    it('refuses a write from an old process while the current entry is live', () => {
      const view = setup();
      view.applyRegistry('n2', 'e2', 1, 3, [sock('a')]);
      view.applyRegistry('n2', 'e1', 1, 3, [sock('old1'), sock('old2')]);
      expect(view.list({ contextId: 1, userId: 3 }).map((r) => r.connectionId)).to.deep.equal(['a']);
      expect(view.staleEntries('n2')).to.deep.equal([]);
    });

    it("replaces a dead epoch's entry with a live epoch's", () => {
      const view = setup();
      view.applyRegistry('n2', 'e1', 1, 3, [sock('old')]);
      view.applyRegistry('n2', 'e2', 1, 3, [sock('a')]);
      expect(view.list({}).map((r) => r.connectionId)).to.deep.equal(['a']);
      expect(view.staleEntries('n2')).to.deep.equal([]);
    });

    it("replaces a node's entry for the same epoch with the latest list", () => {
      const view = setup();
      view.applyRegistry('n2', 'e2', 1, 3, [sock('a'), sock('b')]);
      view.applyRegistry('n2', 'e2', 1, 3, [sock('c')]);
      expect(view.countOfUser(1, 3)).to.equal(1);
      expect(view.hasConnection(1, 3, 'a')).to.equal(false);
    });

    it('removes an entry on a deletion (or an empty list) of the same epoch', () => {
      const view = setup();
      view.applyRegistry('n2', 'e2', 1, 3, [sock('a')]);
      view.applyRegistry('n2', 'e2', 1, 3, []);
      expect(view.countOfUser(1, 3)).to.equal(0);
      view.applyRegistry('n2', 'e2', 1, 4, [sock('b')]);
      view.applyRegistry('n2', 'e2', 1, 4, undefined);
      expect(view.list({})).to.deep.equal([]);
      expect(view.liveNodes()[0].sockets).to.equal(0);
    });

    it("does not let the deletion of an older epoch remove a newer process's entry", () => {
      const view = setup();
      view.applyRegistry('n2', 'e2', 1, 3, [sock('a')]);
      view.applyRegistry('n2', 'e1', 1, 3, undefined);
      view.applyRegistry('n2', 'e1', 1, 3, []);
      expect(view.countOfUser(1, 3)).to.equal(1);
    });

    it('ignores a deletion for an entry it never had', () => {
      const view = setup();
      expect(() => view.applyRegistry('n2', 'e2', 1, 3, undefined)).to.not.throw();
      expect(view.knownNodes()).to.deep.equal(['n2']);
    });

    it('ignores registry entries of itself', () => {
      const view = new ClusterView('n1');
      view.applyPresence('n1', presence('n1', 'e1'));
      view.applyRegistry('n1', 'e1', 1, 3, [sock('a')]);
      expect(view.list({})).to.deep.equal([]);
      expect(view.knownNodes()).to.deep.equal([]);
    });
  });

  describe('queries', () => {
    function twoNodes() {
      const view = setup();
      view.applyPresence('n3', presence('n3', 'e3', 'online', 50));
      view.applyRegistry('n2', 'e2', 1, 3, [sock('a', '/ws/a', 10), sock('b', '/ws/b', 11)]);
      view.applyRegistry('n3', 'e3', 1, 3, [sock('c', '/ws/a', 12)]);
      view.applyRegistry('n3', 'e3', 1, 4, [sock('d', '/ws/a', 13)]);
      view.applyRegistry('n3', 'e3', 2, 3, [sock('e', '/ws/a', 14)]);
      return view;
    }

    it('counts sockets per user across nodes, apart per context and per user', () => {
      const view = twoNodes();
      expect(view.countOfUser(1, 3)).to.equal(3);
      expect(view.countOfUser(1, 4)).to.equal(1);
      expect(view.countOfUser(2, 3)).to.equal(1);
      expect(view.countOfUser(2, 4)).to.equal(0);
    });

    it('finds the nodes with a matching socket of the user, skipping the source connection', () => {
      const view = twoNodes();
      expect(view.nodesFor(1, 3, MATCH_EVERY_SOCKET)).to.deep.equal(['n2', 'n3']);
      expect(view.nodesFor(1, 3, compilePathFilter('/ws/b'))).to.deep.equal(['n2']);
      expect(view.nodesFor(1, 3, MATCH_EVERY_SOCKET, 'c')).to.deep.equal(['n2']);
      expect(view.nodesFor(1, 3, compilePathFilter('/ws/a'), 'a')).to.deep.equal(['n3']);
      expect(view.nodesFor(1, 3, compilePathFilter('/none'))).to.deep.equal([]);
    });

    it('exists only for a matching path', () => {
      const view = twoNodes();
      expect(view.exists(1, 4, compilePathFilter('/ws/a'))).to.equal(true);
      expect(view.exists(1, 4, compilePathFilter('/ws/b'))).to.equal(false);
    });

    it('knows a connection id only for its own user', () => {
      const view = twoNodes();
      expect(view.hasConnection(1, 3, 'c')).to.equal(true);
      expect(view.hasConnection(1, 4, 'c')).to.equal(false);
      expect(view.hasConnection(2, 3, 'a')).to.equal(false);
    });

    it('lists rows with every field, filtered by context and user', () => {
      const view = twoNodes();
      expect(view.list({ contextId: 1, userId: 4 })).to.deep.equal([
        { contextId: 1, userId: 4, path: '/ws/a', connectionId: 'd', node: 'n3', remoteAddress: '10.0.0.9', connectedAt: 13 },
      ]);
      expect(view.list({ contextId: 2 }).map((r) => r.connectionId)).to.deep.equal(['e']);
      expect(view.list({ userId: 3 }).map((r) => r.connectionId).sort()).to.deep.equal(['a', 'b', 'c', 'e']);
      expect(view.list({}).length).to.equal(5);
      expect(view.list({ contextId: 9, userId: 9 })).to.deep.equal([]);
    });

    it('lists the live nodes with their socket counts, not the offline ones', () => {
      const view = twoNodes();
      expect(view.liveNodes()).to.deep.equal([
        { id: 'n2', route: 'R-n2', since: 0, sockets: 2 },
        { id: 'n3', route: 'R-n3', since: 50, sockets: 3 },
      ]);
      view.applyPresence('n3', presence('n3', 'e3', 'offline'));
      expect(view.liveNodes().map((n) => n.id)).to.deep.equal(['n2']);
      expect(view.countOfUser(1, 3)).to.equal(2);
    });

    it('knows nodes heard of by presence or by registry alone', () => {
      const view = setup();
      view.applyRegistry('n4', 'e4', 1, 3, [sock('x')]);
      expect(view.knownNodes().sort()).to.deep.equal(['n2', 'n4']);
      expect(view.staleEntries('n4')).to.deep.equal([{ node: 'n4', epoch: 'e4', contextId: 1, userId: 3 }]);
      expect(view.staleEntries('n9')).to.deep.equal([]);
    });

    it('forgets everything on clear', () => {
      const view = twoNodes();
      view.clear();
      expect(view.knownNodes()).to.deep.equal([]);
      expect(view.liveNodes()).to.deep.equal([]);
      expect(view.countOfUser(1, 3)).to.equal(0);
      expect(view.list({})).to.deep.equal([]);
    });
  });
});
