/**
 * A root hook: once every test has run, the process must end by itself (mocha runs
 * without --exit so that a leaked socket, timer or child process shows). If it does
 * not within a minute, say what is still open and fail, instead of hanging CI until
 * its time runs out.
 */
const GRACE_MS = Number(process.env.WSMESH_TEST_GRACE_MS ?? 60_000);

export const mochaHooks = {
  afterAll(): void {
    const timer = setTimeout(() => {
      process.stderr.write(
        `\nwsmesh tests: the process is still running ${GRACE_MS / 1000} s after the last test; something was not cleaned up.\n` +
          `  open resources: ${JSON.stringify(process.getActiveResourcesInfo())}\n` +
          '  Find the suite that leaks with `npx mocha <file>` per suite; exiting with code 1.\n',
      );
      process.exit(process.exitCode || 1);
    }, GRACE_MS);
    // The watchdog itself must not keep the process alive.
    timer.unref();
  },
};
