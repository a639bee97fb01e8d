/**
 * A timer as an actor: sends `tick` to its parent every `every` ms while it runs,
 * and leaves nothing behind when stopped (the callback's cleanup clears the timer).
 * Time comes from the injected `Timers`, so tests drive it with a fake clock.
 */
import { fromCallback } from 'xstate';
import type { Timers } from '../time/timers.ts';

export interface TickerInput {
  every: number;
  timers: Timers;
}

export const ticker = fromCallback<{ type: 'noop' }, TickerInput>(({ sendBack, input }) => {
  let handle: unknown;
  const schedule = () => {
    handle = input.timers.setTimeout(() => {
      // Arm the next tick first: the parent may stop us while handling this one,
      // and the cleanup must then clear the handle that is really pending.
      schedule();
      sendBack({ type: 'tick' });
    }, input.every);
  };
  schedule();
  return () => input.timers.clearTimeout(handle);
});
