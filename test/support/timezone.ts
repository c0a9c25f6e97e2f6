import { afterEach, beforeEach } from 'vitest';

/** Prune's bucket keys use the process's local zone: pin it per test so expectations hold on any machine. */
export function usePinnedTimeZone(zone: string): void {
  const saved = process.env.TZ;
  beforeEach(() => {
    process.env.TZ = zone;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });
}
