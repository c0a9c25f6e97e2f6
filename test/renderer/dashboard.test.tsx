// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatBytes, formatTime } from '../../contract/format.js';
import type { AppInfo, GroupRow, StoreDashboard } from '../../contract/model.js';
import type { PlanView } from '../../contract/plans.js';
import { createClient } from '../../renderer/src/api/client.js';
import { App } from '../../renderer/src/components/App.js';
import { connectEvents, createAppStore, type AppStore } from '../../renderer/src/state/app-store.js';
import { AppStoreContext } from '../../renderer/src/state/use-app.js';
import { WEB_APP_INFO } from '../support/app-info.js';
import { FakeTransport } from '../support/fake-transport.js';
import { PLAN_STORE, plan, planView } from '../support/plans.js';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const HOUR = 3_600_000;
const GIB = 1024 ** 3;

const INFO: AppInfo = WEB_APP_INFO;

const GROUP: GroupRow = {
  path: 'host/Documents',
  type: 'host',
  id: 'Documents',
  snapshotCount: 2,
  lastBackup: NOW / 1000 - 3600,
  lastSize: 5000,
  notes: '',
} as GroupRow;

const FULL: StoreDashboard = {
  disk: { freeBytes: 40 * GIB, totalBytes: 100 * GIB },
  sizeHistory: [
    { time: NOW - 5 * HOUR, bytes: 3_000_000, chunks: 10 },
    { time: NOW - HOUR, bytes: 5_242_880, chunks: 17 },
  ],
  activity: [
    { time: NOW / 1000 - 5 * 3600, group: 'host/Documents', size: 4000, newBytes: 3_000_000 },
    { time: NOW / 1000 - 3 * 3600, group: 'host/Photos', size: 9000, newBytes: 900_000 },
    { time: NOW / 1000 - 3600, group: 'host/Documents', size: 5000, newBytes: 2_242_880 },
  ],
};

let host: FakeTransport;
let store: AppStore;
let plans: PlanView[];
let dashboard: StoreDashboard;
let disconnect: () => void;

/** A canvas context and paths that draw nothing: happy-dom has neither, and uPlot draws with them. */
function stubCanvas() {
  const noop = () => ({ width: 0 });
  const ctx = new Proxy({}, { get: (_t, key) => (key === 'canvas' ? undefined : noop), set: () => true });
  HTMLCanvasElement.prototype.getContext = (() => ctx) as unknown as HTMLCanvasElement['getContext'];
  globalThis.Path2D ??= class {
    moveTo() {}
    lineTo() {}
    rect() {}
    arc() {}
    closePath() {}
    bezierCurveTo() {}
    quadraticCurveTo() {}
    addPath() {}
  } as unknown as typeof Path2D;
}

async function openStore() {
  store = createAppStore(createClient(host));
  disconnect = connectEvents(store);
  await store.getState().init();
  render(
    <AppStoreContext.Provider value={store}>
      <App />
    </AppStoreContext.Provider>,
  );
  await act(() => store.getState().openStore(PLAN_STORE));
}

const overview = () => within(screen.getByRole('region', { name: 'Overview' }));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: NOW });
  stubCanvas();
  host = new FakeTransport();
  plans = [];
  dashboard = FULL;
  host.answers.getAppInfo = () => INFO;
  host.answers.recentStores = () => [PLAN_STORE];
  host.answers.listJobs = () => [];
  host.answers.listPlans = () => plans;
  host.answers.schedulerInfo = () => ({ role: 'active', configDir: '/home/ann/.config/cairn' });
  host.answers.openStore = () => ({
    path: PLAN_STORE,
    chunkSize: 4 << 20,
    compression: 'zstd',
    syncLevel: 'filesystem',
    created: 'x',
    groups: 1,
  });
  host.answers.listGroups = () => [GROUP];
  host.answers.listSnapshots = () => [];
  host.answers.gcStatus = () => ({ kind: 'never' });
  host.answers.storeUsage = () => ({ chunks: 17, bytes: 5_242_880 });
  host.answers.storeDashboard = () => dashboard;
});
afterEach(() => {
  cleanup();
  disconnect?.();
  vi.useRealTimers();
});

describe('the store dashboard', () => {
  it('is the first view of an open store; a group shows its snapshots, Overview comes back', async () => {
    await openStore();
    expect(screen.getByRole('button', { name: /^Overview/ }).getAttribute('aria-current')).toBe('page');
    expect(host.called('storeDashboard')).toEqual([{ store: PLAN_STORE }]);
    await act(async () => fireEvent.click(screen.getByRole('option', { name: /Documents/ })));
    expect(screen.queryByRole('region', { name: 'Overview' })).toBeNull();
    expect(screen.getByRole('option', { name: /Documents/ }).getAttribute('aria-selected')).toBe('true');
    await act(async () => fireEvent.click(screen.getByRole('button', { name: /^Overview/ })));
    expect(overview().getByRole('heading', { name: 'Space' })).toBeTruthy();
    expect(screen.getByRole('option', { name: /Documents/ }).getAttribute('aria-selected')).toBe('false');
  });

  it("lists this store's plans only, with state, last success, next run and an overdue warning", async () => {
    plans = [
      planView(plan({ id: 'docs', name: 'Documents' }), {
        state: 'overdue',
        lastSuccessAt: NOW - 3 * 24 * HOUR,
        nextRunAt: NOW + HOUR,
      }),
      planView(plan({ id: 'music', name: 'Music', store: '/mnt/other' })),
    ];
    await openStore();
    const list = within(overview().getByRole('list', { name: 'Plans for this store' }));
    expect(list.getAllByRole('listitem')).toHaveLength(1);
    const docs = within(list.getByRole('listitem', { name: 'Plan Documents' }));
    expect(docs.getByText('Overdue').getAttribute('data-state')).toBe('overdue');
    expect(docs.getByText(/3 days ago/).textContent).toContain(formatTime((NOW - 3 * 24 * HOUR) / 1000));
    expect(docs.getByText(/in 1 h/)).toBeTruthy();
    expect(docs.getByRole('alert').textContent).toMatch(/^Overdue: no successful backup/);
    expect(overview().queryByText('Music')).toBeNull();
  });

  it('invites to make a plan when none backs up into the store', async () => {
    plans = [planView(plan({ store: '/mnt/other' }))];
    await openStore();
    expect(overview().getByText(/No plan backs up into this store yet/)).toBeTruthy();
    fireEvent.click(overview().getByRole('button', { name: 'New plan…' }));
    expect(store.getState().planDraft).toEqual({ start: { store: PLAN_STORE } });
  });

  it("words the store's size and the disk's free space with the app's formats, with a bar of the disk", async () => {
    await openStore();
    expect(screen.getByTestId('store-size').textContent).toContain(`${formatBytes(5_242_880)} in 17 chunks`);
    expect(screen.getByTestId('disk-free').textContent).toBe(
      `${formatBytes(40 * GIB)} free of ${formatBytes(100 * GIB)}`,
    );
    expect(overview().getByRole('meter', { name: 'Disk used' }).getAttribute('aria-valuenow')).toBe('60');
  });

  it('draws both charts from the figures, labelled with what they show', async () => {
    await openStore();
    const size = overview().getByRole('img', { name: /^Store size over time/ });
    expect(size.getAttribute('aria-label')).toBe(
      `Store size over time: 2 samples, from ${formatBytes(3_000_000)} to ${formatBytes(5_242_880)}`,
    );
    expect(size.querySelector('canvas')).toBeTruthy();
    expect(size.getAttribute('data-points')).toBe('2');
    const bars = overview().getByRole('img', { name: /^New bytes per snapshot/ });
    expect(bars.getAttribute('aria-label')).toBe(
      `New bytes per snapshot: 3 snapshots in 2 groups, the latest ${formatBytes(2_242_880)}`,
    );
    expect(bars.querySelector('canvas')).toBeTruthy();
    // The legend names each group, in the colour of its bars.
    expect(bars.textContent).toContain('host/Documents');
    expect(bars.textContent).toContain('host/Photos');
  });

  it('has empty states before anything is measured, and says when the disk is unknown', async () => {
    dashboard = { sizeHistory: [], activity: [] };
    host.answers.storeUsage = () => ({ chunks: 0, bytes: 0 });
    await openStore();
    // A new store: the store bar's count stands in for the first sample, in the same words, not "0 B in 0 chunks".
    expect(screen.getByTestId('store-size').textContent).toMatch(/^empty \(no chunks yet\) · counted when/);
    expect(screen.getByLabelText('Datastore size').textContent).toBe('Store size: empty (no chunks yet) (recounting…)');
    expect(screen.getByLabelText('Datastore size').querySelector('.recount.on')).toBeNull();
    expect(screen.getByTestId('disk-free').textContent).toMatch(/^Unknown/);
    expect(overview().queryByRole('img')).toBeNull();
    expect(overview().getByText(/No size measured yet/)).toBeTruthy();
    expect(overview().getByText(/No snapshots yet/)).toBeTruthy();
  });

  it("the store bar's size is never older than the overview's: a sample taken after its count wins", async () => {
    await openStore();
    // What the bar says: its figure, and "(recounting…)" only while it is shown (it is always there, hidden).
    const bar = () => {
      const el = screen.getByLabelText('Datastore size');
      const figure = el.querySelector('.figure')!.textContent;
      return el.querySelector('.recount.on') ? `${figure} (recounting…)` : figure;
    };
    expect(bar()).toBe(`Store size: ${formatBytes(5_242_880)} in 17 chunks`);
    // A backup finished: the host sampled the store after it, and its own count is still running.
    let finishCount: (u: { chunks: number; bytes: number }) => void = () => {};
    host.answers.storeUsage = () => new Promise((resolve) => (finishCount = resolve));
    vi.setSystemTime(NOW + 60_000);
    dashboard = { ...FULL, sizeHistory: [...FULL.sizeHistory, { time: NOW + 30_000, bytes: 9_000_000, chunks: 21 }] };
    await act(async () => host.push('store.changed', { store: PLAN_STORE }));
    expect(screen.getByTestId('store-size').textContent).toContain(`${formatBytes(9_000_000)} in 21 chunks`);
    expect(bar()).toBe(`Store size: ${formatBytes(9_000_000)} in 21 chunks (recounting…)`);
    // The count began after the sample: it is the newer figure once it is in.
    await act(async () => finishCount({ chunks: 22, bytes: 9_100_000 }));
    expect(bar()).toBe(`Store size: ${formatBytes(9_100_000)} in 22 chunks`);
  });

  it('reads the figures again on store.changed, and the plans on plans.changed', async () => {
    dashboard = { sizeHistory: [], activity: [] };
    await openStore();
    dashboard = FULL;
    await act(async () => host.push('store.changed', { store: PLAN_STORE }));
    expect(overview().getByRole('img', { name: /^Store size over time: 2 samples/ })).toBeTruthy();
    plans = [planView(plan({ name: 'Later' }))];
    await act(async () => host.push('plans.changed', {} as never));
    expect(overview().getByRole('listitem', { name: 'Plan Later' })).toBeTruthy();
  });
});
