import { describe, expect, it } from 'vitest';
import { formatClock, formatIsoTime, formatTime } from '../../contract/format.js';
import { usePinnedTimeZone } from '../support/timezone.js';

/**
 * One way to show a time in the app: local, 24-hour, to the second. The last GC was shown in UTC without saying
 * so (sliced from its ISO text), a file's mtime in UTC with "UTC", the job log in the browser's 12-hour style.
 */
describe('times in the app', () => {
  usePinnedTimeZone('Europe/Berlin');
  const at = Date.UTC(2026, 11, 1, 20, 3, 7); // 21:03:07 in Berlin

  it('shows a snapshot time, the last GC, a file mtime and a log line alike, in the local zone', () => {
    expect(formatTime(at / 1000)).toBe('2026-12-01 21:03:07');
    expect(formatIsoTime('2026-12-01T20:03:07.123456789Z')).toBe('2026-12-01 21:03:07');
    expect(formatIsoTime('2026-12-01T20:03:07Z')).toBe('2026-12-01 21:03:07');
    expect(formatClock(at)).toBe('21:03:07');
    expect(formatIsoTime('not a time')).toBe('not a time');
  });
});
