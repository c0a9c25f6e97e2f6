import type { Plan, PlanDetails, PlanRun, PlanStatus, PlanView } from '../../contract/plans.js';

// Plans as the host hands them to the renderer, for renderer tests.

export const PLAN_STORE = '/home/ann/store';

export function plan(extra: Partial<Plan> = {}): Plan {
  return {
    id: 'documents',
    groupId: 'Documents',
    createdAt: 1,
    formerSources: [],
    name: 'Documents',
    sources: [{ kind: 'folder', path: '/home/ann/Documents' }],
    store: PLAN_STORE,
    excludes: ['*.bak'],
    excludePresets: ['caches'],
    schedule: { kind: 'daily', at: '03:00' },
    retention: {},
    maintenance: { gcEveryDays: 7, verifyNew: false, fullVerifyEveryDays: 30 },
    conditions: { skipOnBattery: false, skipPushOnMetered: false },
    notify: 'failures',
    paused: false,
    ...extra,
  };
}

export function planView(p: Plan, status: Partial<PlanStatus> = {}, scheduleText = 'daily at 03:00'): PlanView {
  return { plan: p, status: { planId: p.id, state: 'ok', failures: 0, ...status }, scheduleText };
}

export function run(extra: Partial<PlanRun> = {}): PlanRun {
  return {
    startedAt: Date.parse('2026-11-24T03:00:00Z'),
    endedAt: Date.parse('2026-11-24T03:00:42Z'),
    trigger: 'schedule',
    status: 'succeeded',
    snapshot: 'host/Documents/2026-11-24T03:00:00Z',
    files: 1234,
    newBytes: 2 * 1024 * 1024,
    pruned: 2,
    gc: true,
    verify: 'ok',
    ...extra,
  };
}

export function planDetails(view: PlanView, runs: PlanRun[], nextRuns: number[], excludes: string[]): PlanDetails {
  return { ...view, runs, nextRuns, excludes };
}
