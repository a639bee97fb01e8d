/**
 * The example proxy configurations are what the proxy suites run: each file in
 * config/proxy/ is its template rendered for the example deployment, so an edit to
 * one without the other fails here (regenerate: `npx tsx spec/proxy/configs.ts --write`).
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { EXAMPLE_SITE, renderApacheSite, renderExamples, renderNginxSite, type ProxySite } from './configs.ts';
import { routeOf } from './support.ts';

const site = (routes: string[]): ProxySite => ({ ...EXAMPLE_SITE, members: routes.map((route, i) => ({ host: `node${i}`, port: 8009, route })) });

describe('proxy configs', () => {
  describe('config/proxy/*', () => {
    for (const [file, text] of Object.entries(renderExamples())) {
      it(`${file.replace(/.*\/config\//, 'config/')} is its template rendered for the example site`, () => {
        expect(readFileSync(file, 'utf8')).to.equal(text, 'stale: run npx tsx spec/proxy/configs.ts --write');
      });
    }
  });

  describe('#renderApacheSite', () => {
    it('gives every member of both balancers its node\'s route, sticky by JSESSIONID|jsessionid', () => {
      const text = renderApacheSite(site(['OX1', 'OX2', 'OX3']));
      for (const scheme of ['http', 'ws']) for (const [i, route] of ['OX1', 'OX2', 'OX3'].entries()) expect(text).to.include(`BalancerMember ${scheme}://node${i}:8009 route=${route} `);
      expect(text.match(/ProxySet stickysession=JSESSIONID\|jsessionid scolonpathdelim=On/g)).to.have.lengthOf(2);
      expect(text).to.include('ProxyPass        /socket.io balancer://wsmesh_ws/socket.io');
      expect(text).to.include('ProxyPass        /ws        balancer://wsmesh_ws/ws');
    });

    it('refuses a route used twice or one a node could not have', () => {
      expect(() => renderApacheSite(site(['OX1', 'OX1']))).to.throw(/used twice/);
      expect(() => renderApacheSite(site(['OX 1']))).to.throw(/must match/);
      expect(() => renderApacheSite(site([]))).to.throw(/at least one member/);
    });
  });

  describe('#renderNginxSite', () => {
    it('maps each route to an upstream with its node first and every other node as backup', () => {
      const text = renderNginxSite(site(['A', 'B', 'C']));
      expect(text).to.include('upstream wsmesh_B {\n    server node1:8009;\n    server node0:8009 backup;\n    server node2:8009 backup;\n}');
      expect(text).to.match(/map \$wsmesh_route \$wsmesh_upstream \{\n {4}A +wsmesh_A;\n {4}B +wsmesh_B;\n {4}C +wsmesh_C;\n {4}default wsmesh;\n\}/);
    });

    it('refuses a route used twice', () => {
      expect(() => renderNginxSite(site(['A', 'A']))).to.throw(/used twice/);
    });
  });

  describe('#routeOf', () => {
    it('reads the route after the first "." as Apache does', () => {
      expect(routeOf('0123abcd.OX1')).to.equal('OX1');
      expect(routeOf('0123abcd.a.b')).to.equal('a.b');
      expect(routeOf('0123abcd')).to.equal('');
    });
  });
});
