import { describe, expect, it } from 'vitest';
import { chooseSnapshotTime } from '../../../core/datastore/snapshot-time.js';
import { MemoryLogger } from '../../../core/log.js';

const T = Date.parse('2026-12-01T12:00:00Z');
const s = (ms: number): number => Math.floor(ms / 1000);

describe('the time a new snapshot is named by', () => {
  it("is this computer's clock, after the group's newest snapshot (one second later if that is now or a little ahead)", () => {
    const log = new MemoryLogger();
    expect(chooseSnapshotTime(undefined, T, T + 40, log)).toBe(s(T));
    expect(chooseSnapshotTime(s(T) - 3600, T, T, log)).toBe(s(T));
    expect(chooseSnapshotTime(s(T), T, T, log)).toBe(s(T) + 1);
    expect(chooseSnapshotTime(s(T) + 200, T, T, log)).toBe(s(T) + 201); // another computer 200 s ahead took the last one
    expect(log.lines).toEqual([]);
  });

  it("is the real time, with a warning, when the group's newest is dated far in the future: the future does not spread", () => {
    const log = new MemoryLogger();
    const yearAhead = s(T) + 365 * 86_400;
    expect(chooseSnapshotTime(yearAhead, T, T, log)).toBe(s(T));
    expect(log.lines.map((l) => l.message)).toEqual([
      "the group's newest snapshot is dated 2027-12-01T12:00:00Z, 365 days in the future (a clock was ahead when it was taken); " +
        'this snapshot is named by the real time, 2026-12-01T12:00:00Z',
    ]);
  });

  it("is the store's clock, with a warning, when this computer's disagrees with it by more than 5 minutes", () => {
    const log = new MemoryLogger();
    expect(chooseSnapshotTime(undefined, T + 365 * 86_400_000, T, log)).toBe(s(T));
    expect(chooseSnapshotTime(undefined, T - 3_600_000, T, log)).toBe(s(T));
    expect(chooseSnapshotTime(undefined, T + 240_000, T, log)).toBe(s(T + 240_000)); // 4 minutes: its own
    expect(log.lines.map((l) => l.message)).toEqual([
      "this computer's clock is 365 days ahead of the store's; the snapshot is named by the store's clock (2026-12-01T12:00:00Z). Set the clock of whichever is wrong",
      "this computer's clock is 60 minutes behind the store's; the snapshot is named by the store's clock (2026-12-01T12:00:00Z). Set the clock of whichever is wrong",
    ]);
  });
});
