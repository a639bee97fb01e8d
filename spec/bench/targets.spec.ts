import { expect } from 'chai';
import { wsmesh } from '../../bench/lib/targets.ts';

const setup = { port: 4000, directoryFile: '/tmp/d.json', adminToken: 't', repoRoot: '/repo' };

describe('bench targets: BENCH_WSMESH_ARGS', () => {
  const saved = process.env.BENCH_WSMESH_ARGS;
  afterEach(() => {
    if (saved === undefined) delete process.env.BENCH_WSMESH_ARGS;
    else process.env.BENCH_WSMESH_ARGS = saved;
  });

  it("appends its flags after the target's own, so they win", () => {
    process.env.BENCH_WSMESH_ARGS = ' --websockets.history.size  0 ';
    const { args } = wsmesh.serverSpec(setup);
    expect(args.slice(-2)).to.deep.equal(['--websockets.history.size', '0']);
    expect(args).to.include('--log.level');
  });

  it('adds nothing when unset', () => {
    delete process.env.BENCH_WSMESH_ARGS;
    const { args } = wsmesh.serverSpec(setup);
    expect(args.slice(-2)).to.deep.equal(['--log.level', 'warn']);
  });
});
