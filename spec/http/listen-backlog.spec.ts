/**
 * `server.backlog`: the node's port listens with it (ss shows a listening socket's
 * backlog as its Send-Q), and the node warns when the kernel caps it at
 * net.core.somaxconn (http/listen-backlog.ts).
 */
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { backlogOf, readSomaxconn } from '../../src/http/listen-backlog.ts';
import { startNode } from '../support/node.ts';
import { installedBinary, requireBinariesOrSkip } from '../support/binaries.ts';

/** Send-Q of the TCP socket listening on `port` (its backlog), as `ss -ltnH` prints it. */
function listenBacklog(port: number): number {
  const out = execFileSync(installedBinary('ss'), ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
  const columns = out.split(/\s+/);
  expect(columns, `ss -ltnH sport = :${port} printed: ${out}`).to.have.length.of.at.least(4);
  return Number(columns[2]);
}

describe('http listen backlog', () => {
  describe('#backlogOf', () => {
    it('grants what is configured when the kernel allows it', () => {
      expect(backlogOf(4096, 4096)).to.deep.equal({ configured: 4096, effective: 4096, somaxconn: 4096 });
      expect(backlogOf(100, 4096).effective).to.equal(100);
    });
    it('is capped at somaxconn', () => {
      expect(backlogOf(4096, 1024)).to.deep.equal({ configured: 4096, effective: 1024, somaxconn: 1024 });
    });
    it('is what is configured when somaxconn cannot be read', () => {
      expect(backlogOf(4096, undefined)).to.deep.equal({ configured: 4096, effective: 4096, somaxconn: undefined });
    });
  });

  describe('#the node listening', function () {
    before(function () {
      requireBinariesOrSkip(this, 'ss');
    });

    it('listens with server.backlog, and says nothing when the kernel grants it', async () => {
      const logs: string[] = [];
      const node = await startNode(['--server.backlog', '64'], { logs });
      try {
        expect(listenBacklog(Number(new URL(node.url).port))).to.equal(64);
        expect(logs.some((line) => line.includes('server.backlog_capped'))).to.equal(false);
      } finally {
        await node.stop();
      }
    });

    it('listens with 4096 by default, or warns with the cap the kernel put on it', async () => {
      const somaxconn = readSomaxconn();
      const logs: string[] = [];
      const node = await startNode([], { logs });
      try {
        const granted = listenBacklog(Number(new URL(node.url).port));
        const capped = logs.map((line) => JSON.parse(line)).find((entry) => entry.event === 'server.backlog_capped');
        console.log(`      default backlog: net.core.somaxconn ${somaxconn}, ss shows ${granted}${capped ? `, warned: ${capped.advice}` : ''}`);
        if (somaxconn !== undefined && somaxconn < 4096) {
          expect(granted).to.equal(somaxconn);
          expect(capped).to.include({ configured: 4096, effective: somaxconn, somaxconn });
        } else {
          expect(granted).to.equal(4096);
          expect(capped).to.equal(undefined);
        }
      } finally {
        await node.stop();
      }
    });
  });
});
