// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatTime } from '../../contract/format.js';
import type { AppInfo, GroupRow } from '../../contract/model.js';
import type { PlanInput, PlanNotice, PlanView, Schedule } from '../../contract/plans.js';
import { createClient } from '../../renderer/src/api/client.js';
import { App } from '../../renderer/src/components/App.js';
import { connectEvents, createAppStore, type AppStore } from '../../renderer/src/state/app-store.js';
import { AppStoreContext } from '../../renderer/src/state/use-app.js';
import { WEB_APP_INFO } from '../support/app-info.js';
import { fail, FakeTransport } from '../support/fake-transport.js';
import { PLAN_STORE, plan, planDetails, planView, run } from '../support/plans.js';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const local = (ms: number) => formatTime(ms / 1000);

const INFO: AppInfo = WEB_APP_INFO;

let host: FakeTransport;
let store: AppStore;
let plans: PlanView[];
let disconnect: () => void;

async function start(info: AppInfo = INFO) {
  host.answers.getAppInfo = () => info;
  store = createAppStore(createClient(host));
  disconnect = connectEvents(store);
  await store.getState().init();
  render(
    <AppStoreContext.Provider value={store}>
      <App />
    </AppStoreContext.Provider>,
  );
}

async function openPlans() {
  await act(async () => fireEvent.click(screen.getByRole('button', { name: /^Plans( \d+)?$/ })));
  await plansViewLoaded();
}

/** The plans view loads on first use (lazy-views.tsx): its fallback stands in until then. */
async function plansViewLoaded() {
  await waitFor(() => expect(document.querySelector('.plans-view[aria-busy]')).toBeNull());
}

/** The card of one plan in the list. */
const card = (name: string) => within(screen.getByRole('listitem', { name: `Plan ${name}` }));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: NOW });
  HTMLDialogElement.prototype.showModal ??= function showModal(this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
  HTMLDialogElement.prototype.close ??= function close(this: HTMLDialogElement) {
    this.removeAttribute('open');
  };
  host = new FakeTransport();
  plans = [];
  host.answers.recentStores = () => [PLAN_STORE];
  host.answers.listJobs = () => [];
  host.answers.listPlans = () => plans;
  host.answers.schedulerInfo = () => ({ role: 'active', configDir: '/home/ann/.config/cairn' });
  host.answers.previewSchedule = ({ schedule }: { schedule: Schedule }) => ({
    text: schedule.kind === 'daily' ? `daily at ${schedule.at}` : schedule.kind,
    nextRuns: [NOW + HOUR, NOW + 25 * HOUR, NOW + 49 * HOUR],
  });
  host.answers.runPlanNow = () => null;
  host.answers.removePlan = () => null;
  host.answers.storeDashboard = () => ({ sizeHistory: [], activity: [] });
  host.answers.listRemotes = () => [
    { name: 'offsite', endpoint: 'https://s3.example.com', bucket: 'backups', prefix: 'laptop/' },
  ];
});
afterEach(() => {
  cleanup();
  disconnect?.();
  vi.useRealTimers();
});

describe('the plans view', () => {
  it('is reached from the top bar and the start page, and explains plans when there are none', async () => {
    await start();
    expect(screen.getByRole('heading', { name: 'Backup plans' })).toBeTruthy(); // the start page's section
    await openPlans();
    expect(screen.getByRole('main', { name: 'Backup plans' })).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'No plans yet' })).toBeTruthy();
    expect(screen.getByText(/backs up one folder, or a disk image, into a datastore by itself/)).toBeTruthy();
    expect(screen.getByText(/Plans run on schedule while this browser-mode host runs/)).toBeTruthy();
    fireEvent.click(screen.getAllByRole('button', { name: 'New plan…' })[0]!);
    expect(screen.getByRole('dialog', { name: 'New backup plan' })).toBeTruthy();
    // The top bar's button takes the user back to the start page.
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    fireEvent.click(screen.getByRole('button', { name: '← Datastores' }));
    expect(screen.getByRole('main', { name: 'Choose a datastore' })).toBeTruthy();
  });

  it('shows each state as a badge, with the last success and the next run, relative and absolute', async () => {
    const states: [string, Partial<PlanView['status']>, string][] = [
      ['ok', { state: 'ok', lastSuccessAt: NOW - 5 * MIN, nextRunAt: NOW + 2 * HOUR }, 'OK'],
      ['running', { state: 'running' }, 'Running…'],
      [
        'failing',
        { state: 'failing', failures: 3, lastRun: run({ status: 'failed', error: 'disk full' }) },
        'Failing: 3 failed runs',
      ],
      ['overdue', { state: 'overdue' }, 'Overdue'],
      ['waiting-store', { state: 'waiting-store', nextRunAt: NOW - HOUR }, 'Waiting: drive not connected'],
      ['waiting-power', { state: 'waiting-power' }, 'Waiting for mains power'],
      ['paused', { state: 'paused' }, 'Paused'],
      ['new', { state: 'new' }, 'New: not run yet'],
    ];
    plans = states.map(([id, status]) =>
      planView(plan({ id, name: `Plan ${id}`, groupId: id, paused: id === 'paused' }), status),
    );
    await start();
    await openPlans();
    for (const [id, , badge] of states)
      expect(card(`Plan ${id}`).getByText(badge, { selector: '.state-badge' })).toBeTruthy();
    const ok = card('Plan ok');
    expect(ok.getByText('5 min ago')).toBeTruthy();
    expect(ok.getByText(`(${local(NOW - 5 * MIN)})`)).toBeTruthy();
    expect(ok.getByText('in 2 h')).toBeTruthy();
    expect(ok.getByText('Daily at 03:00')).toBeTruthy();
    expect(ok.getByText('/home/ann/Documents')).toBeTruthy();
    expect(ok.getByText(PLAN_STORE)).toBeTruthy();
    expect(card('Plan failing').getByText('Last run failed: disk full')).toBeTruthy();
    expect(card('Plan new').getByText('never')).toBeTruthy();
    expect(card('Plan paused').getByText('none while paused')).toBeTruthy();
    expect(card('Plan waiting-store').getByText('when the drive is connected')).toBeTruthy();
    expect(card('Plan running').getByRole('button', { name: 'Running…' })).toHaveProperty('disabled', true);
    expect(card('Plan paused').getByRole('button', { name: 'Resume' })).toBeTruthy();
    // The top bar counts the plans that need a look.
    expect(screen.getByRole('button', { name: 'Plans 2' })).toBeTruthy();
  });

  it('asks again on plans.changed', async () => {
    await start();
    await openPlans();
    plans = [planView(plan(), { state: 'running' })];
    await act(async () => host.push('plans.changed', {}));
    expect(card('Documents').getByText('Running…', { selector: '.state-badge' })).toBeTruthy();
  });

  it('runs, pauses and removes a plan, asking first and saying that the snapshots stay', async () => {
    const p = plan();
    plans = [planView(p)];
    host.answers.savePlan = ({ input }: { input: PlanInput }) => planView({ ...p, paused: input.paused ?? false });
    await start();
    await openPlans();
    await act(async () => fireEvent.click(card('Documents').getByRole('button', { name: 'Back up now' })));
    expect(host.called('runPlanNow')).toEqual([{ planId: 'documents' }]);

    await act(async () => fireEvent.click(card('Documents').getByRole('button', { name: 'Pause' })));
    const { id: _id, groupId: _g, createdAt: _c, formerSources: _f, ...input } = p;
    expect(host.called('savePlan')).toEqual([{ planId: 'documents', input: { ...input, paused: true } }]);

    fireEvent.click(card('Documents').getByRole('button', { name: 'Remove…' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Remove plan “Documents”?' }));
    expect(dialog.getByText(/Its snapshots stay in the store/)).toBeTruthy();
    expect(dialog.getByText(/in host\/Documents of/)).toBeTruthy();
    plans = [];
    await act(async () => fireEvent.click(dialog.getByRole('button', { name: 'Remove plan' })));
    expect(host.called('removePlan')).toEqual([{ planId: 'documents' }]);
    expect(screen.getByRole('heading', { name: 'No plans yet' })).toBeTruthy();
  });

  it("shows an action's error at its plan", async () => {
    plans = [planView(plan())];
    host.answers.runPlanNow = () => fail('NOT_FOUND', 'no plan documents');
    await start();
    await openPlans();
    await act(async () => fireEvent.click(card('Documents').getByRole('button', { name: 'Back up now' })));
    expect(card('Documents').getByRole('alert').textContent).toContain('no plan documents');
  });

  it('opens the plan\'s store in the app with "Open store"', async () => {
    plans = [planView(plan())];
    host.answers.openStore = () => ({
      path: PLAN_STORE,
      chunkSize: 4 << 20,
      compression: 'zstd',
      syncLevel: 'filesystem',
      created: 'x',
      groups: 1,
    });
    host.answers.listGroups = () => [];
    host.answers.gcStatus = () => ({ kind: 'never' });
    host.answers.storeUsage = () => ({ chunks: 0, bytes: 0 });
    await start();
    await openPlans();
    await act(async () => fireEvent.click(card('Documents').getByRole('button', { name: 'Open store' })));
    expect(host.called('openStore')).toEqual([{ path: PLAN_STORE }]);
    expect(screen.getByRole('main', { name: 'Datastore' })).toBeTruthy();
  });
});

describe('a plan in full', () => {
  it('shows the run history, the next runs and the effective excludes', async () => {
    const view = planView(plan(), { state: 'failing', failures: 1, lastSuccessAt: NOW - 9 * HOUR });
    plans = [view];
    const failed = run({
      startedAt: NOW - HOUR,
      endedAt: NOW - HOUR + 3000,
      trigger: 'retry',
      status: 'failed',
      snapshot: undefined,
      files: undefined,
      newBytes: undefined,
      pruned: undefined,
      gc: undefined,
      verify: undefined,
      error: 'cannot back up /home/ann/Documents: no such file or folder',
    });
    const good = run({ startedAt: NOW - 9 * HOUR, endedAt: NOW - 9 * HOUR + 42_000 });
    host.answers.getPlan = () =>
      planDetails(view, [failed, good], [NOW + 15 * HOUR, NOW + 39 * HOUR], ['.cache/', '*.bak']);
    await start();
    await openPlans();
    await act(async () => fireEvent.click(card('Documents').getByRole('button', { name: 'History and details' })));
    expect(screen.getByRole('heading', { name: 'Plan “Documents”' })).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: '← All plans' }));
    const table = screen.getByRole('table', { name: 'Run history' });
    const rows = within(table)
      .getAllByRole('row')
      .map((r) => r.textContent);
    expect(rows[0]).toBe('StartedDurationTriggerResultSnapshotFilesNew dataPrunedGC / verify');
    expect(rows[1]).toBe(`${local(NOW - HOUR)}3 sRetryFailed–––––`);
    expect(rows[2]).toBe('cannot back up /home/ann/Documents: no such file or folder');
    expect(rows[3]).toBe(
      `${local(good.startedAt)}42 sScheduleSucceeded${local(Date.parse('2026-11-24T03:00:00Z')).slice(11)}1,2342.00 MiB2GC, verified`,
    );
    const next = within(screen.getByRole('region', { name: 'Next runs' }));
    expect(next.getByText('in 15 h')).toBeTruthy();
    expect(next.getByText(`(${local(NOW + 39 * HOUR)})`)).toBeTruthy();
    const excluded = within(screen.getByRole('region', { name: 'Excluded' }));
    expect(excluded.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['.cache/', '*.bak']);
    expect(screen.getByText('Keep every snapshot')).toBeTruthy();
    // Browser mode without desktop notifications: the plan's notices show in the window only, and it says so.
    const notices = screen.getByText('Notifications', { selector: 'dt' }).nextElementSibling!;
    expect(notices.textContent).toBe(
      'Failures, recoveries and overdue (shown in this window only: this browser has no desktop notifications)',
    );
    // A run ending pushes plans.changed: the details are asked for again.
    await act(async () => host.push('plans.changed', {}));
    expect(host.called('getPlan')).toHaveLength(2);
    fireEvent.click(screen.getByRole('button', { name: '← All plans' }));
    expect(screen.getByRole('list', { name: 'Plans' })).toBeTruthy();
  });

  it('says when a plan has not run yet', async () => {
    const view = planView(plan({ schedule: { kind: 'manual' } }), { state: 'new' }, 'only when started by hand');
    plans = [view];
    host.answers.getPlan = () => planDetails(view, [], [], []);
    await start();
    await act(async () => store.getState().openPlans('documents'));
    expect(await screen.findByText('No runs yet. “Back up now” starts one.')).toBeTruthy();
    expect(screen.getByText('None: only when started with “Back up now”.')).toBeTruthy();
    expect(screen.getByText('Nothing: every file of the folder is backed up.')).toBeTruthy();
  });
});

describe('the plan editor', () => {
  async function openEditor() {
    await start();
    await openPlans();
    fireEvent.click(screen.getAllByRole('button', { name: 'New plan…' })[0]!);
    return within(screen.getByRole('dialog', { name: 'New backup plan' }));
  }

  it('marks what is missing and saves nothing', async () => {
    host.answers.savePlan = () => fail('INTERNAL', 'should not be called');
    const dialog = await openEditor();
    fireEvent.change(dialog.getByLabelText('Datastore'), { target: { value: '\0other' } });
    await act(async () => fireEvent.click(dialog.getByRole('button', { name: 'Create plan' })));
    expect(dialog.getByText('Give the plan a name (one line, at most 80 characters).')).toBeTruthy();
    expect(dialog.getByText('Choose the folder or disk image to back up.')).toBeTruthy();
    expect(dialog.getByText('Choose the datastore to back up into.')).toBeTruthy();
    expect(dialog.getByLabelText('Plan name').getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(dialog.getByLabelText('Plan name'));
    expect(host.called('savePlan')).toEqual([]);
    // Typing clears a field's error.
    fireEvent.change(dialog.getByLabelText('Plan name'), { target: { value: 'Documents' } });
    expect(dialog.queryByText('Give the plan a name (one line, at most 80 characters).')).toBeNull();
  });

  it('previews the schedule as it is typed, and shows why it is not valid', async () => {
    host.answers.previewSchedule = ({ schedule }: { schedule: Schedule }) =>
      schedule.kind === 'calendar' && schedule.expression === '61 * * * *'
        ? fail('INVALID_ARGUMENT', 'the calendar expression "61 * * * *" is not valid: Invalid value for minute: 61')
        : { text: 'every 15 minutes', nextRuns: [NOW + 15 * MIN, NOW + 30 * MIN, NOW + 45 * MIN] };
    const dialog = await openEditor();
    fireEvent.change(dialog.getByLabelText('Runs'), { target: { value: 'interval' } });
    fireEvent.change(dialog.getByLabelText('Every'), { target: { value: '15' } });
    fireEvent.change(dialog.getByLabelText('Unit'), { target: { value: 'minutes' } });
    const preview = within(await dialog.findByLabelText('Schedule preview'));
    expect(await preview.findByText('Runs every 15 minutes.')).toBeTruthy();
    // A new plan on an interval makes its first backup when it is saved (as the scheduler runs it), not in 15 min.
    expect(preview.getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'as soon as the plan is saved',
      `in 15 min (${local(NOW + 15 * MIN)})`,
      `in 30 min (${local(NOW + 30 * MIN)})`,
    ]);
    expect(host.called('previewSchedule').at(-1)).toEqual({
      schedule: { kind: 'interval', every: 15, unit: 'minutes' },
    });
    // An interval below the minimum is refused in the editor's words, without asking the host.
    const asked = host.called('previewSchedule').length;
    fireEvent.change(dialog.getByLabelText('Every'), { target: { value: '0' } });
    expect((await dialog.findByRole('alert')).textContent).toContain('A whole number from 1 to 10,000.');
    fireEvent.change(dialog.getByLabelText('Runs'), { target: { value: 'calendar' } });
    fireEvent.change(dialog.getByLabelText('Cron expression'), { target: { value: '61 * * * *' } });
    expect((await dialog.findByText(/Invalid value for minute: 61/)).textContent).toContain('is not valid');
    expect(host.called('previewSchedule').length).toBe(asked + 1);
  });

  it('saves what was chosen, as a PlanInput', async () => {
    host.answers.savePlan = ({ input }: { input: PlanInput }) => {
      plans = [planView(plan({ ...input, excludes: input.excludes ?? [] } as never))];
      return plans[0]!;
    };
    const dialog = await openEditor();
    fireEvent.change(dialog.getByLabelText('Plan name'), { target: { value: '  Photos  ' } });
    fireEvent.change(dialog.getByLabelText('Folder to back up'), { target: { value: '/home/ann/Photos' } });
    expect(dialog.getByLabelText<HTMLSelectElement>('Datastore').value).toBe(PLAN_STORE);
    fireEvent.click(dialog.getByLabelText('Trash'));
    fireEvent.click(dialog.getByLabelText('node_modules'));
    fireEvent.change(dialog.getByLabelText('Own patterns (one .gitignore pattern per line)'), {
      target: { value: '*.raw\n\n  thumbs/ \n' },
    });
    fireEvent.change(dialog.getByLabelText('Runs'), { target: { value: 'weekly' } });
    fireEvent.click(dialog.getByLabelText('Fri'));
    fireEvent.click(dialog.getByLabelText('Sun'));
    // A time in 24-hour form, as the app shows every time; "9:05" is taken as 09:05.
    const at = dialog.getByLabelText<HTMLInputElement>('At');
    fireEvent.change(at, { target: { value: '9:05' } });
    fireEvent.blur(at);
    expect(at.value).toBe('09:05');
    expect(at.type).toBe('text');
    fireEvent.change(at, { target: { value: '21:30' } });
    fireEvent.change(dialog.getByLabelText('Snapshots to keep'), { target: { value: 'some' } });
    expect(dialog.getByText('Keep the last 3, 24 hourly, 7 daily, 4 weekly, 6 monthly.')).toBeTruthy();
    fireEvent.change(dialog.getByLabelText(/^Garbage collection every/), { target: { value: '0' } });
    fireEvent.click(dialog.getByLabelText('Verify each new snapshot'));
    fireEvent.click(dialog.getByLabelText('Not on battery'));
    fireEvent.change(dialog.getByLabelText('Notifications'), { target: { value: 'all' } });
    await act(async () => fireEvent.click(dialog.getByRole('button', { name: 'Create plan' })));
    expect(host.called('savePlan')).toEqual([
      {
        planId: undefined,
        input: {
          name: '  Photos  ',
          sources: [{ kind: 'folder', path: '/home/ann/Photos' }],
          store: PLAN_STORE,
          excludes: ['*.raw', 'thumbs/'],
          excludePresets: ['caches', 'node-modules'],
          schedule: { kind: 'weekly', days: ['mon', 'tue', 'wed', 'thu', 'sun'], at: '21:30' },
          retention: { keepLast: 3, keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 6 },
          maintenance: { gcEveryDays: 0, verifyNew: true, fullVerifyEveryDays: 30 },
          conditions: { skipOnBattery: true, skipPushOnMetered: false },
          notify: 'all',
          paused: false,
        },
      },
    ]);
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(card('Photos')).toBeTruthy();
  });

  it('adds a second folder with the folder browser and a disk image, removes one, and saves them all', async () => {
    host.answers.savePlan = ({ input }: { input: PlanInput }) => planView(plan(input as never));
    host.answers.listFolder = () => ({ path: '/home/ann/Music', folders: [], fileCount: 4 });
    const dialog = await openEditor();
    fireEvent.change(dialog.getByLabelText('Plan name'), { target: { value: 'Everything' } });
    fireEvent.change(dialog.getByLabelText('Folder to back up'), { target: { value: '/home/ann/Photos' } });
    fireEvent.click(dialog.getByRole('button', { name: 'Add a folder' }));
    fireEvent.click(dialog.getByRole('button', { name: 'Add a folder' }));
    fireEvent.click(dialog.getByRole('button', { name: 'Add a disk image' }));
    // The second folder from the folder browser, as the first's.
    const second = dialog.getByLabelText('Folder 2').closest('.more-source') as HTMLElement;
    await act(async () => fireEvent.click(within(second).getByRole('button', { name: 'Browse…' })));
    const browser = within(await screen.findByRole('dialog', { name: 'Folder to back up' }));
    await act(async () => fireEvent.click(await browser.findByRole('button', { name: 'Choose this folder' })));
    expect(dialog.getByLabelText<HTMLInputElement>('Folder 2').value).toBe('/home/ann/Music');
    fireEvent.change(dialog.getByLabelText('Disk image file 4'), { target: { value: '/vm/disk.img' } });
    // The third, left empty, is refused until removed.
    await act(async () => fireEvent.click(dialog.getByRole('button', { name: 'Create plan' })));
    expect(dialog.getByText('Choose each added folder or disk image, or remove it.')).toBeTruthy();
    expect(host.called('savePlan')).toEqual([]);
    fireEvent.click(dialog.getByRole('button', { name: 'Remove folder 3' }));
    expect(dialog.getByLabelText<HTMLInputElement>('Disk image file 3').value).toBe('/vm/disk.img');
    await act(async () => fireEvent.click(dialog.getByRole('button', { name: 'Create plan' })));
    expect((host.called('savePlan') as { input: PlanInput }[])[0]!.input).toMatchObject({
      name: 'Everything',
      sources: [
        { kind: 'folder', path: '/home/ann/Photos' },
        { kind: 'folder', path: '/home/ann/Music' },
        { kind: 'image', path: '/vm/disk.img' },
      ],
      excludePresets: ['caches', 'trash'],
    });
  });

  it('says when a source lies inside another', async () => {
    host.answers.savePlan = () => fail('INTERNAL', 'should not be called');
    const dialog = await openEditor();
    fireEvent.change(dialog.getByLabelText('Plan name'), { target: { value: 'Nested' } });
    fireEvent.change(dialog.getByLabelText('Folder to back up'), { target: { value: '/home/ann' } });
    fireEvent.click(dialog.getByRole('button', { name: 'Add a folder' }));
    fireEvent.change(dialog.getByLabelText('Folder 2'), { target: { value: '/home/ann/Music' } });
    await act(async () => fireEvent.click(dialog.getByRole('button', { name: 'Create plan' })));
    expect(dialog.getByText(/\/home\/ann\/Music is inside \/home\/ann, another source of the plan/)).toBeTruthy();
  });

  it("keeps the host's refusal in the dialog", async () => {
    host.answers.savePlan = () => fail('INVALID_ARGUMENT', 'a plan named "Documents" exists already');
    const dialog = await openEditor();
    fireEvent.change(dialog.getByLabelText('Plan name'), { target: { value: 'documents' } });
    fireEvent.change(dialog.getByLabelText('Folder to back up'), { target: { value: '/home/ann/Documents' } });
    await act(async () => fireEvent.click(dialog.getByRole('button', { name: 'Create plan' })));
    expect(dialog.getByRole('alert').textContent).toContain('a plan named "Documents" exists already');
    expect(screen.getByRole('dialog', { name: 'New backup plan' })).toBeTruthy();
  });

  it('edits a plan with its settings filled in, and saves it under its id; duplicates it under a new name', async () => {
    const p = plan({
      sources: [{ kind: 'image', path: '/home/ann/vm/disk.img' }],
      excludes: [],
      excludePresets: [],
      schedule: { kind: 'interval', every: 6, unit: 'hours' },
      retention: { keepLast: 3, keepDaily: 7 },
      paused: true,
    });
    plans = [planView(p, { state: 'paused' })];
    host.answers.savePlan = () => plans[0]!;
    await start();
    await openPlans();
    fireEvent.click(card('Documents').getByRole('button', { name: 'Edit…' }));
    let dialog = within(screen.getByRole('dialog', { name: 'Edit plan “Documents”' }));
    expect(dialog.getByText('Its snapshots go into host/Documents (kept when the plan is renamed).')).toBeTruthy();
    expect(dialog.getByLabelText<HTMLInputElement>('Disk image file').value).toBe('/home/ann/vm/disk.img');
    expect(dialog.queryByText('Leave out')).toBeNull(); // an image is backed up whole
    expect(dialog.getByLabelText<HTMLInputElement>('Every').value).toBe('6');
    expect(dialog.getByLabelText<HTMLSelectElement>('Snapshots to keep').value).toBe('custom');
    expect(dialog.getByLabelText<HTMLInputElement>('Keep last').value).toBe('3');
    expect(dialog.getByLabelText<HTMLInputElement>('Paused').checked).toBe(true);
    fireEvent.change(dialog.getByLabelText('Plan name'), { target: { value: 'VM disk' } });
    await act(async () => fireEvent.click(dialog.getByRole('button', { name: 'Save plan' })));
    const [saved] = host.called('savePlan') as { planId: string; input: PlanInput }[];
    expect(saved!.planId).toBe('documents');
    expect(saved!.input).toMatchObject({
      name: 'VM disk',
      sources: [{ kind: 'image', path: '/home/ann/vm/disk.img' }],
      schedule: { kind: 'interval', every: 6, unit: 'hours' },
      retention: { keepLast: 3, keepDaily: 7 },
      paused: true,
    });

    fireEvent.click(card('Documents').getByRole('button', { name: 'Duplicate…' }));
    dialog = within(screen.getByRole('dialog', { name: 'New backup plan' }));
    expect(dialog.getByLabelText<HTMLInputElement>('Plan name').value).toBe('Documents (copy)');
    expect(dialog.getByText('Its snapshots go into host/Documents-copy.')).toBeTruthy();
  });
});

describe('a plan with an off-site copy', () => {
  it('keeps the remote and its keep rules through an edit, and sets the metered condition', async () => {
    const p = plan({ offsite: { remote: 'offsite', retention: { keepDaily: 30 } } });
    plans = [planView(p)];
    host.answers.savePlan = () => plans[0]!;
    await start();
    await openPlans();
    fireEvent.click(card('Documents').getByRole('button', { name: 'Edit…' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Edit plan “Documents”' }));
    const remote = await dialog.findByLabelText<HTMLSelectElement>('After each backup, push to');
    await act(async () => {}); // the remotes arrive
    expect(remote.value).toBe('offsite');
    expect(dialog.getByText('The remote keeps: daily 30.')).toBeTruthy();
    fireEvent.click(dialog.getByLabelText('Not on a metered network'));
    await act(async () => fireEvent.click(dialog.getByRole('button', { name: 'Save plan' })));
    const [saved] = host.called('savePlan') as { input: PlanInput }[];
    expect(saved!.input.offsite).toEqual({ remote: 'offsite', retention: { keepDaily: 30 } });
    expect(saved!.input.conditions).toEqual({ skipOnBattery: false, skipPushOnMetered: true });
  });

  it('offers no off-site copy when there are no remotes, and says how to add one', async () => {
    host.answers.listRemotes = () => [];
    await start();
    await openPlans();
    fireEvent.click(screen.getAllByRole('button', { name: /New plan/ })[0]!);
    const dialog = within(screen.getByRole('dialog', { name: 'New backup plan' }));
    expect(await dialog.findByText(/No remotes yet: add one in Remotes/)).toBeTruthy();
    expect(dialog.getByLabelText<HTMLSelectElement>('After each backup, push to').value).toBe('');
  });
});

describe('a plan of several sources', () => {
  it('shows every source in the list and in the editor', async () => {
    const p = plan({
      sources: [
        { kind: 'folder', path: '/home/ann/Documents' },
        { kind: 'image', path: '/home/ann/vm/disk.img' },
      ],
    });
    plans = [planView(p)];
    host.answers.savePlan = () => plans[0]!;
    await start();
    await openPlans();
    expect(card('Documents').getByText('/home/ann/Documents')).toBeTruthy();
    expect(card('Documents').getByText('/home/ann/vm/disk.img')).toBeTruthy();
    fireEvent.click(card('Documents').getByRole('button', { name: 'Edit…' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Edit plan “Documents”' }));
    expect(dialog.getByLabelText<HTMLInputElement>('Folder to back up').value).toBe('/home/ann/Documents');
    expect(dialog.getByLabelText<HTMLInputElement>('Disk image file 2').value).toBe('/home/ann/vm/disk.img');
    expect(dialog.getByText('Leave out')).toBeTruthy(); // the folder has something to leave out
    await act(async () => fireEvent.click(dialog.getByRole('button', { name: 'Save plan' })));
    expect((host.called('savePlan') as { input: PlanInput }[])[0]!.input.sources).toEqual(p.sources);
  });
});

describe("a group's plan", () => {
  const group = (id: string, source?: string): GroupRow => ({
    type: 'host',
    id,
    path: `host/${id}`,
    snapshotCount: 1,
    notes: '',
    ...(source ? { source } : {}),
  });

  async function openStoreWith(groups: GroupRow[]) {
    host.answers.openStore = () => ({
      path: PLAN_STORE,
      chunkSize: 4 << 20,
      compression: 'zstd',
      syncLevel: 'filesystem',
      created: 'x',
      groups: groups.length,
    });
    host.answers.listGroups = () => groups;
    host.answers.listSnapshots = () => [];
    host.answers.gcStatus = () => ({ kind: 'never' });
    host.answers.storeUsage = () => ({ chunks: 0, bytes: 0 });
    await start();
    await act(async () => void (await store.getState().openStore(PLAN_STORE)));
    await act(async () => fireEvent.click(screen.getByRole('option', { name: /Documents/ })));
  }

  it('offers "Back up now" when a plan backs up into the group', async () => {
    plans = [planView(plan(), { state: 'ok' })];
    await openStoreWith([group('Documents', '/home/ann/Documents')]);
    expect(screen.getByText('Plan “Documents”, daily at 03:00')).toBeTruthy();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Back up now' })));
    expect(host.called('runPlanNow')).toEqual([{ planId: 'documents' }]);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Show plan' })));
    expect(store.getState()).toMatchObject({ plansOpen: true, planShown: 'documents' });
  });

  it('else offers a plan for the folder, filled in from what the group records', async () => {
    plans = [planView(plan({ store: '/media/usb/store' }))]; // the same group id, in another store
    await openStoreWith([group('Documents', '/home/ann/Documents')]);
    fireEvent.click(screen.getByRole('button', { name: 'Make a plan for this folder…' }));
    const dialog = within(screen.getByRole('dialog', { name: 'New backup plan' }));
    expect(dialog.getByLabelText<HTMLInputElement>('Plan name').value).toBe('Documents');
    expect(dialog.getByLabelText<HTMLInputElement>('Folder to back up').value).toBe('/home/ann/Documents');
    expect(dialog.getByLabelText<HTMLSelectElement>('Datastore').value).toBe(PLAN_STORE);
    expect(dialog.getByText('Its snapshots go into host/Documents.')).toBeTruthy();
  });
});

describe('notices about plans', () => {
  const notice: PlanNotice = {
    planId: 'documents',
    kind: 'failed',
    title: 'Backup "Documents" failed',
    body: 'disk full. Cairn tries again later.',
  };

  afterEach(() => {
    localStorage.clear();
    vi.unstubAllGlobals();
  });

  it('shows a toast in the window while desktop notifications are not turned on', async () => {
    plans = [planView(plan())];
    host.answers.getPlan = () => planDetails(plans[0]!, [], [], []);
    await start();
    await act(async () => host.push('plan.notice', notice));
    const toast = within(screen.getByRole('alert'));
    expect(toast.getByText('Backup "Documents" failed')).toBeTruthy();
    expect(toast.getByText('disk full. Cairn tries again later.')).toBeTruthy();
    await act(async () => fireEvent.click(toast.getByRole('button', { name: 'Show plan' })));
    expect(store.getState()).toMatchObject({ plansOpen: true, planShown: 'documents', toasts: [] });
  });

  it('in the desktop app, shows only the toast (the main process shows the native notification)', async () => {
    const shown = vi.fn();
    vi.stubGlobal('Notification', Object.assign(shown, { permission: 'granted', requestPermission: vi.fn() }));
    localStorage.setItem('cairn.desktop-notifications', 'on');
    await start({ ...INFO, host: 'electron', nativeDialogs: true, dropPaths: true });
    await act(async () => host.push('plan.notice', notice));
    expect(shown).not.toHaveBeenCalled();
    expect(screen.getByRole('alert').textContent).toContain('Backup "Documents" failed');
    await openPlans();
    expect(screen.queryByText(/Desktop notifications/)).toBeNull();
  });

  it('in browser mode, asks for permission only when turned on, then shows Web Notifications instead', async () => {
    const made: { title: string; options: NotificationOptions }[] = [];
    const requestPermission = vi.fn(async () => {
      FakeNotification.permission = 'granted';
      return 'granted';
    });
    class FakeNotification {
      static permission: NotificationPermission = 'default';
      static requestPermission = requestPermission;
      onclick: (() => void) | null = null;
      constructor(title: string, options: NotificationOptions) {
        made.push({ title, options });
      }
    }
    vi.stubGlobal('Notification', FakeNotification);
    await start();
    await openPlans();
    expect(requestPermission).not.toHaveBeenCalled();
    expect(screen.getByText(/Desktop notifications: off/)).toBeTruthy();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Turn on' })));
    expect(requestPermission).toHaveBeenCalledOnce();
    expect(screen.getByText(/Desktop notifications: on/)).toBeTruthy();
    await act(async () => host.push('plan.notice', notice));
    expect(made).toEqual([
      { title: 'Backup "Documents" failed', options: { body: notice.body, tag: 'cairn-plan-documents' } },
    ]);
    expect(screen.queryByRole('alert')).toBeNull();
    // Refused by the browser: it says so, and notices show in the window.
    FakeNotification.permission = 'denied';
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Turn off' })));
    expect(screen.getByText(/blocked by the browser; notices show in this window/)).toBeTruthy();
    await act(async () => host.push('plan.notice', notice));
    expect(screen.getByRole('alert').textContent).toContain('disk full');
  });
});
