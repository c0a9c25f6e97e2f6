import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolve } from 'node:path';
import type { Result } from '../../contract/errors.js';
import type { PlanStatus, PlanView, SchedulerInfo } from '../../contract/plans.js';
import { CairnTray, type TrayDeps } from '../../electron/tray.js';
import { FakeTray, Menu, menuItem, menuLabels, nativeImage } from '../support/electron-mock.js';
import { FakeHost, job } from '../support/fake-host.js';

const ICONS = resolve(import.meta.dirname, '..', '..', 'electron', 'assets');
const HOUR = 3_600_000;

function plan(name: string, status: Partial<PlanStatus> = {}): PlanView {
  const id = name.toLowerCase();
  return {
    plan: {
      id,
      name,
      groupId: name,
      createdAt: 0,
      sources: [{ kind: 'folder', path: `/home/ann/${name}` }],
      store: '/mnt/store',
      excludes: [],
      excludePresets: [],
      schedule: { kind: 'daily', at: '03:00' },
      retention: {},
      maintenance: { gcEveryDays: 7, verifyNew: false, fullVerifyEveryDays: 30 },
      conditions: { skipOnBattery: false, skipPushOnMetered: false },
      notify: 'failures',
      paused: false,
      formerSources: [],
    },
    status: { planId: id, state: 'ok', failures: 0, ...status },
    scheduleText: 'daily at 03:00',
  };
}

const ok = <T>(value: T): Result<T> => ({ ok: true, value });

class Harness {
  readonly host = new FakeHost();
  plans: PlanView[] = [];
  info: SchedulerInfo = { role: 'active', configDir: '/cfg' };
  readonly open = vi.fn();
  readonly quit = vi.fn();
  readonly onError = vi.fn();
  readonly tray: CairnTray;
  readonly fake: FakeTray;

  constructor(refreshMs = 1_000) {
    this.host.answers['plans.list'] = () => ok(this.plans);
    this.host.answers['scheduler.info'] = () => ok(this.info);
    const deps: TrayDeps = {
      Tray: FakeTray as unknown as TrayDeps['Tray'],
      Menu: Menu as unknown as TrayDeps['Menu'],
      nativeImage: nativeImage as unknown as TrayDeps['nativeImage'],
      iconDir: ICONS,
      host: this.host as unknown as TrayDeps['host'],
      open: this.open,
      quit: this.quit,
      onError: this.onError,
      refreshMs,
    };
    this.tray = new CairnTray(deps);
    this.fake = FakeTray.instances.at(-1)!;
  }

  async shown(): Promise<{ labels: string[]; tooltip: string; icon: string }> {
    await this.tray.refresh();
    return {
      labels: menuLabels(this.fake.menu()),
      tooltip: this.fake.setToolTip.mock.lastCall![0] as string,
      icon: this.fake.iconPath(),
    };
  }
}

describe('the tray', () => {
  let h: Harness | undefined;
  afterEach(() => h?.tray.destroy());

  it('idle: each plan with its state and "Back up now", pausing, opening and quitting', async () => {
    h = new Harness();
    expect(h.fake.image.path).toBe(resolve(ICONS, 'tray-idle.png'));
    expect(h.fake.image.isEmpty(), 'the icon file exists').toBe(false);
    const next = Date.now() + HOUR;
    h.plans = [plan('Documents', { nextRunAt: next }), plan('Photos', { state: 'new' })];
    h.plans[1]!.plan.schedule = { kind: 'manual' };
    const shown = await h.shown();
    expect(shown.icon).toMatch(/tray-idle\.png$/);
    expect(shown.labels).toEqual([
      expect.stringMatching(/^Next: “Documents” at (\d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d)$/),
      expect.stringMatching(/^Documents: next at /),
      'Photos: by hand',
      'Pause all for 1 hour',
      'Pause all until resumed',
      'Open Cairn',
      'Quit Cairn',
    ]);
    expect(shown.tooltip).toBe(`Cairn\n${shown.labels[0]}`);
    expect(menuItem(h.fake.menu(), /^Documents:/).submenu).toEqual([
      expect.objectContaining({ label: 'Back up now', enabled: true }),
    ]);
  });

  it('with no plans says so and offers no pausing', async () => {
    h = new Harness();
    const shown = await h.shown();
    expect(shown.labels).toEqual(['No backup plans', 'No backup plans yet', 'Open Cairn', 'Quit Cairn']);
    expect(shown.tooltip).toBe('Cairn\nNo backup plans');
  });

  it('running: the running job and its percentage, its plan cannot be started twice', async () => {
    h = new Harness();
    h.plans = [plan('Documents', { state: 'running' }), plan('Photos')];
    h.host.jobs = [
      job({ progress: { phase: 'files', bytesDone: 421, bytesTotal: 1000 } }),
      job({ id: 'old', status: 'done' }),
    ];
    const shown = await h.shown();
    expect(shown.icon).toMatch(/tray-running\.png$/);
    expect(shown.labels[0]).toBe('Plan “Documents”: backup of /home/ann/Documents: 42%');
    expect(shown.tooltip).toBe('Cairn\nPlan “Documents”: backup of /home/ann/Documents: 42%');
    expect(shown.labels[1]).toBe('Documents: backing up now');
    const [documents, photos] = h.fake.menu().filter((i) => i.submenu);
    expect(documents!.submenu![0]).toMatchObject({ label: 'Back up now', enabled: false });
    expect(photos!.submenu![0]).toMatchObject({ label: 'Back up now', enabled: true });

    // Two jobs; one of them a GC without a byte count yet.
    h.host.jobs = [
      job({ id: 'gc', kind: 'gc', title: 'Garbage collection of /mnt/store', progress: { phase: 'starting' } }),
      job(),
    ];
    expect((await h.shown()).labels[0]).toBe('Garbage collection of /mnt/store (+1 more)');
    // Long titles are cut.
    h.host.jobs = [job({ title: `Backup of /home/ann/${'very-long-folder-name/'.repeat(4)}` })];
    expect((await h.shown()).labels[0]).toMatch(/^Backup of \/home\/ann\/very-long.{30,}…$/);
    expect((await h.shown()).labels[0]!.length).toBe(60);
  });

  it('attention: a plan failing or overdue; running still shows first, with the attention below', async () => {
    h = new Harness();
    h.plans = [plan('Documents', { state: 'failing', failures: 3 }), plan('Photos')];
    let shown = await h.shown();
    expect(shown.icon).toMatch(/tray-attention\.png$/);
    expect(shown.labels.slice(0, 3)).toEqual(['“Documents” failed', 'Documents: failed 3 times', 'Photos: up to date']);
    h.plans = [plan('Documents'), plan('Photos', { state: 'overdue' })];
    expect((await h.shown()).labels[0]).toBe('“Photos” is overdue');
    // A run that could not read some files made its snapshot, and is still no "up to date".
    h.plans = [plan('Documents', { state: 'incomplete' }), plan('Photos')];
    shown = await h.shown();
    expect(shown.icon).toMatch(/tray-attention\.png$/);
    expect(shown.labels.slice(0, 2)).toEqual(['“Documents” left files out', 'Documents: last run left files out']);
    h.plans = [plan('Documents', { state: 'failing', failures: 1 }), plan('Photos', { state: 'overdue' })];
    shown = await h.shown();
    expect(shown.labels.slice(0, 3)).toEqual([
      '2 plans need attention',
      'Documents: last run failed',
      'Photos: overdue',
    ]);
    h.host.jobs = [job({ title: 'Verify every snapshot', progress: { phase: 'verify', done: 1, total: 4 } })];
    shown = await h.shown();
    expect(shown.icon).toMatch(/tray-running\.png$/);
    expect(shown.tooltip).toBe('Cairn\nVerify every snapshot: 25%\n2 plans need attention');
    // Back to idle: the icon follows.
    h.host.jobs = [];
    h.plans = [plan('Documents')];
    expect((await h.shown()).icon).toMatch(/tray-idle\.png$/);
  });

  it('a plans file that cannot be read needs attention', async () => {
    h = new Harness();
    h.host.answers['plans.list'] = () => ({
      ok: false,
      error: { code: 'CORRUPT', message: '/cfg/plans.json is not a plans file Cairn can read' },
    });
    const shown = await h.shown();
    expect(shown.icon).toMatch(/tray-attention\.png$/);
    expect(shown.labels[0]).toMatch(/^Plans: \/cfg\/plans\.json is not a plans file/);
  });

  it('"Back up now" asks the host to run the plan; a refusal is shown', async () => {
    h = new Harness();
    h.plans = [plan('Documents')];
    h.host.answers['plans.run-now'] = () => ok(null);
    await h.tray.refresh();
    menuItem(menuItem(h.fake.menu(), /^Documents:/).submenu!, 'Back up now').click!({ checked: false });
    await vi.waitFor(() => expect(h!.host.handle).toHaveBeenCalledWith('plans.run-now', { planId: 'documents' }));
    expect(h.onError).not.toHaveBeenCalled();
    h.host.answers['plans.run-now'] = () => ({ ok: false, error: { code: 'NOT_FOUND', message: 'no plan documents' } });
    menuItem(h.fake.menu(), 'Back up now').click!({ checked: false });
    await vi.waitFor(() => expect(h!.onError).toHaveBeenCalledWith('The backup could not start', 'no plan documents'));
  });

  it('pauses all plans for an hour or until resumed, shows the pause, and resumes', async () => {
    h = new Harness();
    h.plans = [plan('Documents')];
    h.host.answers['plans.pause-all'] = () => ok(h!.info);
    h.host.answers['plans.resume-all'] = () => ok(h!.info);
    await h.tray.refresh();
    menuItem(h.fake.menu(), 'Pause all for 1 hour').click!({ checked: false });
    menuItem(h.fake.menu(), 'Pause all until resumed').click!({ checked: false });
    await vi.waitFor(() => expect(h!.host.handle).toHaveBeenCalledWith('plans.pause-all', {}));
    expect(h.host.handle).toHaveBeenCalledWith('plans.pause-all', { minutes: 60 });

    const until = Date.now() + HOUR;
    h.info = { ...h.info, pauseAll: { until } };
    h.plans = [plan('Documents', { state: 'paused', pauseAll: { until }, nextRunAt: until })];
    let shown = await h.shown();
    expect(shown.labels).toEqual([
      expect.stringMatching(/^All plans paused until /),
      'Documents: paused (all plans)',
      shown.labels[0],
      'Resume all',
      'Open Cairn',
      'Quit Cairn',
    ]);
    h.info = { ...h.info, pauseAll: {} };
    shown = await h.shown();
    expect(shown.labels[0]).toBe('All plans paused');
    menuItem(h.fake.menu(), 'Resume all').click!({ checked: false });
    await vi.waitFor(() => expect(h!.host.handle).toHaveBeenCalledWith('plans.resume-all', {}));
  });

  it('"Open Cairn", a click on the icon and "Quit Cairn"', async () => {
    h = new Harness();
    await h.tray.refresh();
    menuItem(h.fake.menu(), 'Open Cairn').click!({ checked: false });
    h.fake.emit('click');
    expect(h.open).toHaveBeenCalledTimes(2);
    menuItem(h.fake.menu(), 'Quit Cairn').click!({ checked: false });
    expect(h.quit).toHaveBeenCalledTimes(1);
  });

  it('follows host events throttled, not once per progress message', async () => {
    h = new Harness(100);
    h.plans = [plan('Documents')];
    await vi.waitFor(() => expect(h!.fake.setContextMenu).toHaveBeenCalled());
    h.fake.setContextMenu.mockClear();
    h.host.jobs = [job()];
    for (let i = 0; i < 30; i++) h.host.emit('job.progress', job());
    h.host.emit('store.changed', { store: '/mnt/store' });
    await new Promise((r) => setTimeout(r, 300));
    expect(h.fake.setContextMenu.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(h.fake.setContextMenu.mock.calls.length).toBeLessThanOrEqual(2);
    expect(menuLabels(h.fake.menu())[0]).toMatch(/42%$/);
    h.host.jobs = [];
    h.host.emit('job.done', job({ status: 'done' }));
    h.host.emit('plans.changed', {});
    await vi.waitFor(() => expect(menuLabels(h!.fake.menu())[0]).toMatch(/^Next|^Idle/));
  });
});
