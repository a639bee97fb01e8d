/** The error catalogue and docs/api.md must list the same codes and statuses. */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { CloseCode, ERRORS, WsmeshError } from '../src/errors.ts';

describe('error catalogue', () => {
  const api = readFileSync('docs/api.md', 'utf8');

  it('documents every error code with its status in docs/api.md', () => {
    for (const [code, { status }] of Object.entries(ERRORS)) {
      expect(api, code).to.contain(`| \`${code}\` | ${status} |`);
    }
  });

  it('documents every close code in docs/api.md', () => {
    for (const code of Object.values(CloseCode)) expect(api, String(code)).to.match(new RegExp(`^\\| ${code} \\|`, 'm'));
  });

  it('serialises an error as {error, message} with the catalogue status', () => {
    const error = new WsmeshError('ERR_TOO_MANY_SOCKETS');
    expect(error.status).to.equal(429);
    expect(JSON.parse(JSON.stringify(error))).to.deep.equal({ error: 'ERR_TOO_MANY_SOCKETS', message: ERRORS.ERR_TOO_MANY_SOCKETS.message });
  });
});
