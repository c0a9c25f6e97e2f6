import { describe, expect, it } from 'vitest';
import {
  formatAgo,
  formatBytes,
  formatClock,
  formatCount,
  formatDuration,
  formatIn,
  formatIsoTime,
  formatRate,
  formatTime,
  plural,
} from '../../contract/format.js';
import { usePinnedTimeZone } from '../support/timezone.js';

/** One copy of how quantities and times read, for the CLI, the host and the renderer alike. */
describe('contract/format', () => {
  it('shows bytes in binary units with three significant digits, and an unknown size as a dash', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.00 KiB');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(23.4 * 1024 * 1024)).toBe('23.4 MiB');
    expect(formatBytes(512 * 1024 ** 3)).toBe('512 GiB');
    expect(formatBytes(3 * 1024 ** 6)).toBe('3072 PiB');
    expect(formatBytes(-2048)).toBe('-2.00 KiB');
    expect(formatBytes(undefined)).toBe('–');
  });

  it('shows a rate per second, rounded to the byte', () => {
    expect(formatRate(1536.4)).toBe('1.50 KiB/s');
    expect(formatRate(10.6)).toBe('11 B/s');
    expect(formatRate(undefined)).toBe('–');
  });

  it('shows a duration in words, to the second below an hour', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(0.4)).toBe('0 s');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(100)).toBe('1 min 40 s');
    expect(formatDuration(3600)).toBe('1 h 0 min');
    expect(formatDuration(2 * 3600 + 14 * 60 + 59)).toBe('2 h 14 min');
    expect(formatDuration(-5)).toBe('0 s');
  });

  it('says how long ago, or how long until, roughly', () => {
    expect(formatAgo(4_000)).toBe('just now');
    expect(formatAgo(42_000)).toBe('under a minute ago');
    expect(formatAgo(5 * 60_000)).toBe('5 min ago');
    expect(formatAgo(3 * 3_600_000)).toBe('3 h ago');
    expect(formatAgo(86_400_000)).toBe('1 day ago');
    expect(formatAgo(2 * 86_400_000)).toBe('2 days ago');
    expect(formatIn(3_000)).toBe('in a moment');
    expect(formatIn(42_000)).toBe('in under a minute');
    expect(formatIn(5 * 60_000 + 59_000)).toBe('in 5 min');
    expect(formatIn(3 * 3_600_000)).toBe('in 3 h');
    // Runs an hour apart never read alike: below ten hours (days) the minutes (hours) are named too.
    expect(formatIn(3_600_000 + 59 * 60_000)).toBe('in 1 h 59 min');
    expect(formatIn(11 * 3_600_000 + 59 * 60_000)).toBe('in 11 h');
    expect(formatIn(2 * 86_400_000)).toBe('in 2 days');
    expect(formatIn(86_400_000 + 8 * 3_600_000)).toBe('in 1 day 8 h');
    expect(formatIn(12 * 86_400_000 + 8 * 3_600_000)).toBe('in 12 days');
  });

  it('counts with separators and names the noun, singular for exactly one', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    for (const n of [0, 7, 999, 1000, 12_345, 999_999, 1_000_000, -1, -1234, -999_999, 2 ** 53 - 1, 1.5, 12_345.678])
      expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
    expect(formatCount(undefined)).toBe('–');
    expect(plural(0, 'file')).toBe('0 files');
    expect(plural(1, 'file')).toBe('1 file');
    expect(plural(1000, 'entry', 'entries')).toBe('1,000 entries');
    expect(plural(1, 'entry', 'entries')).toBe('1 entry');
  });

  describe('times, local and 24-hour', () => {
    usePinnedTimeZone('Europe/Berlin');
    const at = Date.UTC(2026, 11, 1, 20, 3, 7); // 21:03:07 in Berlin

    it('shows a date and time, a time of day, and an ISO time alike', () => {
      expect(formatTime(at / 1000)).toBe('2026-12-01 21:03:07');
      expect(formatTime(undefined)).toBe('–');
      expect(formatClock(at)).toBe('21:03:07');
      expect(formatIsoTime('2026-12-01T20:03:07.5Z')).toBe('2026-12-01 21:03:07');
      expect(formatIsoTime('not a time')).toBe('not a time');
    });
  });
});
