import { expect } from 'chai';
import { createLogger, redact } from '../../src/log/logger.ts';

describe('logger', () => {
  describe('redact', () => {
    it('hides fields that could hold a secret, at any depth', () => {
      const out = redact({ sessionId: 's', secret: 'x', password: 'p', adminToken: 't', cookie: 'c', nested: { authorization: 'Bearer t', ok: 1 }, keys: ['k'] });
      expect(out).to.deep.equal({ sessionId: 's', secret: '[redacted]', password: '[redacted]', adminToken: '[redacted]', cookie: '[redacted]', nested: { authorization: '[redacted]', ok: 1 }, keys: '[redacted]' });
    });
  });

  describe('#setLevel', () => {
    it('applies to children too, so a reloaded log.level reaches every part', () => {
      const lines: string[] = [];
      const log = createLogger('info', (l) => lines.push(l));
      const child = log.child({ node: 'n1' });
      child.debug('hidden');
      log.setLevel('debug');
      child.debug('shown', { a: 1 });
      expect(lines).to.have.length(1);
      expect(JSON.parse(lines[0])).to.include({ level: 'debug', event: 'shown', node: 'n1', a: 1 });
    });
  });
});
