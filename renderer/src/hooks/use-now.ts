import { useCallback, useSyncExternalStore } from 'react';

/** One ticking clock per interval, shared by every component that asks for it. */
interface Clock {
  now: number;
  listeners: Set<() => void>;
  timer?: ReturnType<typeof setInterval>;
}

const clocks = new Map<number, Clock>();

function clockOf(everyMs: number): Clock {
  let clock = clocks.get(everyMs);
  if (!clock) {
    clock = { now: Date.now(), listeners: new Set() };
    clocks.set(everyMs, clock);
  }
  return clock;
}

function subscribe(everyMs: number, listener: () => void): () => void {
  const clock = clockOf(everyMs);
  if (clock.listeners.size === 0) {
    clock.now = Date.now();
    clock.timer = setInterval(() => {
      clock.now = Date.now();
      for (const l of clock.listeners) l();
    }, everyMs);
  }
  clock.listeners.add(listener);
  return () => {
    clock.listeners.delete(listener);
    if (clock.listeners.size === 0) clearInterval(clock.timer);
  };
}

/**
 * The time now (epoch ms), again every `everyMs`: relative times ("5 min ago") move on by themselves. Every
 * component on the same interval reads the same moment, so a plan's card and its details never say "in 21 h"
 * and "in 20 h" of the same run.
 */
export function useNow(everyMs = 30_000): number {
  const subscribeTo = useCallback((listener: () => void) => subscribe(everyMs, listener), [everyMs]);
  return useSyncExternalStore(subscribeTo, () => clockOf(everyMs).now);
}
