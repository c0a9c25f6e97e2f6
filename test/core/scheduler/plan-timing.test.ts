import { describe, expect, it } from 'vitest';
import { planSchema, type Plan, type PlanRun } from '../../../contract/plans.js';
import { afterRun, nextDueAt, upcomingRuns } from '../../../core/scheduler/plan-timing.js';

const NOW = Date.UTC(2026, 10, 24, 10, 0, 0);

function plan(schedule: Plan['schedule']): Plan {
  return planSchema.parse({
    id: 'docs',
    groupId: 'docs',
    createdAt: NOW - 3_600_000,
    name: 'Docs',
    store: '/store',
    sources: [{ kind: 'folder', path: '/src' }],
    schedule,
  });
}

const failed: PlanRun = { startedAt: NOW, endedAt: NOW + 1000, trigger: 'manual', status: 'failed', error: 'boom' };

describe('nextDueAt', () => {
  it('a manual plan whose run failed is not retried by the scheduler (it was, with backoff, for ever)', () => {
    const runtime = afterRun({ failures: 0 }, failed, NOW);
    expect(runtime.retryAt).toBeGreaterThan(NOW);
    expect(nextDueAt(plan({ kind: 'manual' }), runtime, NOW + 86_400_000)).toBeUndefined();
  });

  it('a scheduled plan whose run failed is retried before its next slot', () => {
    const runtime = afterRun({ failures: 0 }, failed, NOW);
    expect(nextDueAt(plan({ kind: 'daily', at: '03:00' }), runtime, NOW)).toBe(runtime.retryAt);
  });
});

describe('upcomingRuns', () => {
  it('a due plan runs now, then at its slots; manual and paused plans have none', () => {
    const hourly = plan({ kind: 'interval', every: 1, unit: 'hours' });
    const due = { failures: 0, lastSlot: NOW - 2 * 3_600_000 };
    expect(upcomingRuns(hourly, due, NOW, 3)).toEqual([NOW, NOW + 3_600_000, NOW + 7_200_000]);
    expect(upcomingRuns(plan({ kind: 'manual' }), due, NOW, 3)).toEqual([]);
    expect(upcomingRuns({ ...hourly, paused: true }, due, NOW, 3)).toEqual([]);
  });
});
