import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { HostEventName } from '../../contract/events.js';
import type { JobState } from '../../contract/jobs.js';
import type { StoreDashboard } from '../../contract/model.js';
import type { PlanDetails, PlanView, SchedulePreview, SchedulerInfo } from '../../contract/plans.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { HostService } from '../../host/host-service.js';
import { removeTree, storeTempRoot, tempDir } from '../support/temp.js';
import { call, failure } from '../support/host-calls.js';

async function until<T>(what: () => T | undefined, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = what();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('backup plans in the app host', () => {
  const base = tempDir('host-plans', storeTempRoot());
  const store = join(base, 'store');
  const source = join(base, 'Documents');
  const configDir = join(base, 'config');
  const events: HostEventName[] = [];
  const notices: unknown[] = [];
  let service: HostService;

  beforeAll(async () => {
    mkdirSync(join(source, 'node_modules', 'x'), { recursive: true });
    writeFileSync(join(source, 'notes.txt'), 'remember the milk\n');
    writeFileSync(join(source, 'node_modules', 'x', 'index.js'), '1');
    await Datastore.create(store, { syncLevel: 'none' });
    service = new HostService({
      platform: { host: 'web' },
      dataDir: join(base, 'data'),
      allowedRoots: [base],
      plans: { configDir, where: 'the test host' },
    });
    service.subscribe((event, payload) => {
      events.push(event);
      if (event === 'plan.notice') notices.push(payload);
    });
    service.startScheduler();
  });
  afterAll(async () => {
    await service.shutdown();
    removeTree(base);
  });

  it('runs the scheduler here: it is the only one', async () => {
    expect(await call<SchedulerInfo>(service, 'scheduler.info', {})).toEqual({ role: 'active', configDir });
  });

  it('saves a plan, lists it with its state, and "Back up now" runs it as a job into its history', async () => {
    const saved = await call<PlanView>(service, 'plans.save', {
      input: {
        name: 'Documents',
        sources: [{ kind: 'folder', path: source }],
        store,
        excludePresets: ['node-modules'],
        schedule: { kind: 'manual' },
      },
    });
    expect(saved).toMatchObject({ plan: { id: 'documents', groupId: 'Documents' }, status: { state: 'new' } });
    expect(saved.scheduleText).toBe('only when started by hand');
    expect(events).toContain('plans.changed');

    await call(service, 'plans.run-now', { planId: 'documents' });
    const job = await until(() => service.engine.list().find((j: JobState) => j.kind === 'plan-run'));
    const done = await service.engine.whenDone(job.id);
    expect(done).toMatchObject({ status: 'done', result: { kind: 'plan-run', plan: 'Documents', files: 1 } });
    // The scheduler records the run just after the job ends.
    await until(() => (service.engine.runningCount === 0 ? true : undefined));
    let details = await call<PlanDetails>(service, 'plans.get', { planId: 'documents' });
    for (let i = 0; i < 100 && (details.runs.length === 0 || details.status.state === 'running'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      details = await call<PlanDetails>(service, 'plans.get', { planId: 'documents' });
    }
    expect(details.runs[0]).toMatchObject({ status: 'succeeded', trigger: 'manual', files: 1 });
    expect(details.status.state).toBe('ok');
    expect(details.excludes).toContain('node_modules/');
    expect(Datastore.open(store).listSnapshots({ type: 'host', id: 'Documents' })).toHaveLength(1);
  });

  it("the store's dashboard: free space, its size after the run, the snapshot with its new bytes", async () => {
    let dashboard = await call<StoreDashboard>(service, 'store.dashboard', { store });
    for (let i = 0; i < 100 && dashboard.sizeHistory.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50)); // sampled on the scan worker after the job
      dashboard = await call<StoreDashboard>(service, 'store.dashboard', { store });
    }
    expect(dashboard.disk!.totalBytes).toBeGreaterThan(dashboard.disk!.freeBytes);
    expect(dashboard.sizeHistory).toHaveLength(1);
    expect(dashboard.sizeHistory[0]!.bytes).toBeGreaterThan(0);
    expect(dashboard.activity).toEqual([expect.objectContaining({ group: 'host/Documents', size: 18 })]);
    expect(dashboard.activity[0]!.newBytes).toBeGreaterThan(0);
  });

  it('a failed run is a failed job, a failing plan, and one notice', async () => {
    await call<PlanView>(service, 'plans.save', {
      input: {
        name: 'Gone',
        sources: [{ kind: 'folder', path: join(base, 'no-such-folder') }],
        store,
        schedule: { kind: 'manual' },
      },
    });
    await call(service, 'plans.run-now', { planId: 'gone' });
    const failing = await until(() => {
      const list = service.engine.list().filter((j) => j.kind === 'plan-run' && j.status === 'failed');
      return list[0];
    });
    expect(failing.error?.message).toMatch(/no-such-folder/);
    await until(() => (notices.length > 0 ? true : undefined));
    expect(notices).toEqual([expect.objectContaining({ planId: 'gone', kind: 'failed' })]);
    const plans = await call<PlanView[]>(service, 'plans.list', {});
    expect(plans.find((p) => p.plan.id === 'gone')?.status).toMatchObject({ state: 'failing', failures: 1 });
  });

  it('a run whose off-site copy fails after its backup keeps the snapshot on its card and in its history', async () => {
    onTestFinished(async () => void (await service.handle('plans.remove', { planId: 'away' }))); // later tests count plans
    await call(service, 'remotes.add', {
      name: 'nowhere',
      // Nothing listens on port 1: the push fails at its first request, after the backup.
      settings: { endpoint: 'http://127.0.0.1:1', region: 'default', bucket: 'backups', prefix: '', pathStyle: true },
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
    await call<PlanView>(service, 'plans.save', {
      input: {
        name: 'Away',
        sources: [{ kind: 'folder', path: source }],
        store,
        schedule: { kind: 'manual' },
        offsite: { remote: 'nowhere' },
      },
    });
    const samplesBefore = (await call<StoreDashboard>(service, 'store.dashboard', { store })).sizeHistory.length;
    await call(service, 'plans.run-now', { planId: 'away' });
    const job = await until(() => service.engine.list().find((j) => j.kind === 'plan-run' && j.title.includes('Away')));
    const done = await service.engine.whenDone(job.id);
    expect(done.status).toBe('failed');
    expect(done.error?.message).toMatch(/^backed up to host\/Away\/\S+, but the off-site copy failed: /);
    expect(done.result).toMatchObject({
      kind: 'plan-run',
      plan: 'Away',
      files: 2,
      snapshot: expect.stringMatching(/^host\/Away\//),
    });
    const snapshot = done.result?.kind === 'plan-run' ? done.result.snapshot : undefined;
    let details = await call<PlanDetails>(service, 'plans.get', { planId: 'away' });
    for (let i = 0; i < 100 && (details.runs.length === 0 || details.status.state === 'running'); i++) {
      await new Promise((r) => setTimeout(r, 50)); // the scheduler records the run just after the job ends
      details = await call<PlanDetails>(service, 'plans.get', { planId: 'away' });
    }
    expect(details.runs[0]).toMatchObject({ status: 'failed', files: 2, snapshot });
    expect(details.status.state).toBe('failing');
    expect(Datastore.open(store).listSnapshots({ type: 'host', id: 'Away' })).toHaveLength(1);
    // The store grew by that snapshot: its size is sampled as after a run that succeeded.
    let samples = samplesBefore;
    for (let i = 0; i < 400 && samples === samplesBefore; i++) {
      await new Promise((r) => setTimeout(r, 50)); // counted on the scan worker after the job
      samples = (await call<StoreDashboard>(service, 'store.dashboard', { store })).sizeHistory.length;
    }
    expect(samples).toBe(samplesBefore + 1);
  }, 150_000);

  it('refuses paths outside the allowed roots, a bad schedule and a plan-run job from the renderer', async () => {
    const outside = await failure(service, 'plans.save', {
      input: { name: 'Etc', sources: [{ kind: 'folder', path: '/etc' }], store },
    });
    expect(outside.code).toBe('PATH_NOT_ALLOWED');
    const badCron = await failure(service, 'plans.preview-schedule', {
      schedule: { kind: 'calendar', expression: '1 2 3' },
    });
    expect(badCron).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/has 3 fields/) });
    const preview = await call<SchedulePreview>(service, 'plans.preview-schedule', {
      schedule: { kind: 'daily', at: '03:30' },
    });
    expect(preview.text).toBe('daily at 03:30');
    expect(preview.nextRuns).toHaveLength(3);
    expect(new Date(preview.nextRuns[0]!).getHours()).toBe(3);
    const smuggled = await failure(service, 'jobs.start', { kind: 'plan-run', plan: {}, trigger: 'manual' });
    expect(smuggled.code).toBe('BAD_REQUEST');
  });

  it('"Pause all" pauses every plan, shows in their status, holds for another host on the same config, and resumes', async () => {
    events.length = 0;
    const before = Date.now();
    const info = await call<SchedulerInfo>(service, 'plans.pause-all', { minutes: 60 });
    expect(info.pauseAll?.until).toBeGreaterThanOrEqual(before + 60 * 60_000);
    expect(info.pauseAll?.until).toBeLessThanOrEqual(Date.now() + 60 * 60_000);
    expect(events).toContain('plans.changed');
    const plans = await call<PlanView[]>(service, 'plans.list', {});
    expect(plans.map((p) => p.status.state)).toEqual(['paused', 'paused']);
    expect(plans[0]!.status.pauseAll).toEqual(info.pauseAll);

    // Until resumed, and seen by a second host (on standby: this one holds the scheduler).
    await call(service, 'plans.pause-all', {});
    const other = new HostService({
      platform: { host: 'web' },
      dataDir: join(base, 'data-other'),
      allowedRoots: [base],
      plans: { configDir, where: 'another test host' },
    });
    try {
      expect(await call<SchedulerInfo>(other, 'scheduler.info', {})).toMatchObject({ pauseAll: {} });
      expect((await call<PlanView[]>(other, 'plans.list', {}))[0]!.status).toMatchObject({ state: 'paused' });
    } finally {
      await other.shutdown();
    }
    expect((await failure(service, 'plans.pause-all', { minutes: 0 })).code).toBe('BAD_REQUEST');
    const resumed = await call<SchedulerInfo>(service, 'plans.resume-all', {});
    expect(resumed.pauseAll).toBeUndefined();
    const after = await call<PlanView[]>(service, 'plans.list', {});
    expect(after.map((p) => p.status.state)).toEqual(['ok', 'failing']);
    service.wakeScheduler(); // a no-op to the caller: the scheduler looks again
    expect(service.hasPlans()).toBe(true);
  });

  it('"Clear finished" forgets the finished jobs, also across a restart of the host', async () => {
    expect(service.engine.list().length).toBeGreaterThan(0);
    const left = await call<JobState[]>(service, 'jobs.clear-finished', {});
    expect(left).toEqual([]);
    await service.engine.cancelAll(); // nothing runs; this writes the kept history now
    const again = new HostService({ platform: { host: 'web' }, dataDir: join(base, 'data'), allowedRoots: [base] });
    expect(await call<JobState[]>(again, 'jobs.list', {})).toEqual([]);
    await again.shutdown();
  });

  it('removing a plan keeps its snapshots', async () => {
    await call(service, 'plans.remove', { planId: 'documents' });
    const plans = await call<PlanView[]>(service, 'plans.list', {});
    expect(plans.map((p) => p.plan.id)).toEqual(['gone']);
    expect(Datastore.open(store).listSnapshots({ type: 'host', id: 'Documents' })).toHaveLength(1);
  });
});

describe('a host without plans', () => {
  it('says so', async () => {
    const base = tempDir('host-noplans');
    const service = new HostService({ platform: { host: 'web' }, dataDir: join(base, 'data'), allowedRoots: [base] });
    const r = await failure(service, 'plans.list', {});
    expect(r.code).toBe('NOT_AVAILABLE');
    expect(service.hasPlans()).toBe(false);
    await service.shutdown();
    removeTree(base);
  });
});
