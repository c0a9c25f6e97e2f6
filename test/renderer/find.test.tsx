// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FilePreview, InPlacePreview, PathHistory, SearchRequest } from '../../contract/find.js';
import type { JobState } from '../../contract/jobs.js';
import { createClient } from '../../renderer/src/api/client.js';
import { App } from '../../renderer/src/components/App.js';
import { hexDump } from '../../renderer/src/hex-dump.js';
import { parseSize, searchQuery, NO_FIELDS } from '../../renderer/src/search-form.js';
import { connectEvents, createAppStore, type AppStore } from '../../renderer/src/state/app-store.js';
import { AppStoreContext } from '../../renderer/src/state/use-app.js';
import { WEB_APP_INFO } from '../support/app-info.js';
import { FakeTransport } from '../support/fake-transport.js';

const STORE = {
  path: '/home/ann/store',
  chunkSize: 4 << 20,
  compression: 'zstd' as const,
  syncLevel: 'filesystem',
  created: 'x',
  groups: 1,
};
const snap = (time: number) => ({
  type: 'host' as const,
  id: 'docs',
  time,
  path: `host/docs/${time}`,
  finished: true,
  protected: false,
  kind: 'folder' as const,
  archives: [],
});
const ref = (time: number) => ({ type: 'host' as const, id: 'docs', time });
const hit = (path: string, time: number) => ({
  path,
  kind: 'file' as const,
  size: 25,
  mtime: time * 1000,
  snapshot: ref(time),
});

let host: FakeTransport;
let store: AppStore;
let disconnect: () => void;

beforeEach(async () => {
  HTMLDialogElement.prototype.showModal ??= function showModal(this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
  HTMLDialogElement.prototype.close ??= function close(this: HTMLDialogElement) {
    this.removeAttribute('open');
  };
  // happy-dom lays nothing out: the virtualized lists are given a size, so they render their rows.
  vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(600);
  vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(800);
  host = new FakeTransport();
  host.answers.getAppInfo = () => WEB_APP_INFO;
  host.answers.recentStores = () => [];
  host.answers.listJobs = () => [];
  host.answers.openStore = () => STORE;
  host.answers.storeDashboard = () => ({ sizeHistory: [], activity: [] });
  host.answers.gcStatus = () => ({ kind: 'never' });
  host.answers.storeUsage = () => ({ chunks: 1, bytes: 1 });
  host.answers.listGroups = () => [
    { type: 'host', id: 'docs', path: 'host/docs', snapshotCount: 3, notes: '', lastBackup: 300 },
  ];
  host.answers.listSnapshots = () => [snap(100), snap(200), snap(300)];
  host.answers.startSearch = () => ({ snapshots: 3 });
  host.answers.cancelSearch = () => null;
  store = createAppStore(createClient(host));
  disconnect = connectEvents(store);
  await store.getState().init();
  await store.getState().openStore(STORE.path);
  await store.getState().openGroup('host/docs');
  render(
    <AppStoreContext.Provider value={store}>
      <App />
    </AppStoreContext.Provider>,
  );
});
afterEach(() => {
  disconnect();
  cleanup();
  vi.restoreAllMocks();
});

/** Opens the search pane and searches for `pattern` (Enter: at once); answers with the request made. */
async function searchFor(pattern: string): Promise<SearchRequest> {
  const open = screen.queryByRole('button', { name: 'Search files…' });
  if (open) fireEvent.click(open);
  const form = await screen.findByRole('search', { name: 'Search files' });
  fireEvent.change(within(form).getByLabelText('Name'), { target: { value: pattern } });
  await act(async () => {
    fireEvent.submit(form);
  });
  return host.called('startSearch').at(-1) as SearchRequest;
}

describe('searching a group', () => {
  it('streams hits in from the search.update events of its own search only', async () => {
    const req = await searchFor('report');
    expect(req).toMatchObject({ store: STORE.path, group: { type: 'host', id: 'docs' }, pattern: 'report' });
    expect(req.searchId).toMatch(/^[0-9a-f]{32}$/);
    act(() => {
      host.push('search.update', {
        searchId: 'someone-elses',
        hits: [hit('x.txt', 300)],
        snapshotsDone: 1,
        snapshotsTotal: 3,
        state: 'running',
      });
      host.push('search.update', {
        searchId: req.searchId,
        hits: [hit('notes/report.txt', 300)],
        snapshotsDone: 1,
        snapshotsTotal: 3,
        state: 'running',
      });
    });
    const list = screen.getByRole('list', { name: 'Matches' });
    await within(list).findByRole('listitem', { name: 'notes/report.txt' });
    expect(within(list).queryByRole('listitem', { name: 'x.txt' })).toBeNull();
    expect(screen.getByRole('status').textContent).toContain('Searching… 1 of 3 snapshots, 1 match');
    act(() => {
      host.push('search.update', {
        searchId: req.searchId,
        hits: [hit('old/report.txt', 100)],
        snapshotsDone: 3,
        snapshotsTotal: 3,
        state: 'done',
      });
    });
    expect(screen.getByRole('status').textContent).toContain('2 matches in 3 snapshots');
    expect(within(list).getAllByRole('listitem')).toHaveLength(2);
  });

  it('stops the search a new one replaces, and drops its late news', async () => {
    const first = await searchFor('rep');
    const second = await searchFor('report');
    expect(second.searchId).not.toBe(first.searchId);
    expect(host.called('cancelSearch')).toEqual([{ searchId: first.searchId }]);
    act(() => {
      host.push('search.update', {
        searchId: first.searchId,
        hits: [hit('late.txt', 300)],
        snapshotsDone: 3,
        snapshotsTotal: 3,
        state: 'done',
      });
    });
    expect(screen.queryByRole('listitem', { name: 'late.txt' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Stop' }));
    expect(host.called('cancelSearch')).toEqual([{ searchId: first.searchId }, { searchId: second.searchId }]);
  });

  it('shows a hit in its snapshot: the browser opens at it', async () => {
    host.answers.browseSnapshot = ({ path }: { path: string }) =>
      path === ''
        ? {
            entries: [
              { name: 'notes', path: 'notes', kind: 'directory', size: 0, mtime: '2026-11-01T00:00:00Z', mode: '755' },
            ],
            offset: 0,
            total: 1,
          }
        : {
            entries: [
              {
                name: 'report.txt',
                path: 'notes/report.txt',
                kind: 'file',
                size: 25,
                mtime: '2026-11-01T00:00:00Z',
                mode: '644',
              },
            ],
            offset: 0,
            total: 1,
          };
    const req = await searchFor('report');
    act(() => {
      host.push('search.update', {
        searchId: req.searchId,
        hits: [hit('notes/report.txt', 200)],
        snapshotsDone: 3,
        snapshotsTotal: 3,
        state: 'done',
      });
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Show notes/report.txt in its snapshot' }));
    const details = await screen.findByRole('complementary', { name: 'Details' });
    await within(details).findByText('report.txt');
    expect(screen.getByRole('heading', { name: 'host/docs/200' })).toBeTruthy();
    expect(host.called('browseSnapshot').map((r) => (r as { path: string }).path)).toEqual(['', 'notes']);
  });
});

describe('history, preview and the restore to the original place', () => {
  const history: PathHistory = {
    path: 'notes/report.txt',
    unreadable: [],
    versions: [
      {
        state: 'present',
        from: ref(100),
        to: ref(100),
        snapshots: 1,
        kind: 'file',
        size: 12,
        mtime: 1,
        changed: false,
      },
      { state: 'absent', from: ref(200), to: ref(200), snapshots: 1, changed: false },
      { state: 'present', from: ref(300), to: ref(300), snapshots: 1, kind: 'file', size: 25, mtime: 2, changed: true },
    ],
  };

  async function openHistory() {
    host.answers.pathHistory = () => history;
    act(() => store.getState().openHistory('notes/report.txt'));
    const dialog = await screen.findByRole('dialog', { name: 'History of notes/report.txt' });
    await within(dialog).findAllByRole('listitem');
    return dialog;
  }

  it('lists the versions newest first, the absence between them', async () => {
    const dialog = await openHistory();
    const rows = within(dialog).getAllByRole('listitem');
    expect(rows.map((r) => r.getAttribute('aria-label')!.split(':')[0])).toEqual([
      'Changed',
      'Not there',
      'First version',
    ]);
    expect(within(rows[1]!).queryByRole('button')).toBeNull();
    expect(host.called('pathHistory')).toEqual([
      { store: STORE.path, group: { type: 'host', id: 'docs' }, path: 'notes/report.txt' },
    ]);
  });

  it('previews text, an image by a blob: URL, and a binary in hex', async () => {
    const dialog = await openHistory();
    const previews: Record<string, FilePreview> = {
      text: { kind: 'text', name: 'report.txt', size: 12, text: 'version one\n', truncated: false },
      image: { kind: 'image', name: 'report.txt', size: 4, mime: 'image/png', data: btoa('\x89PNG') },
      binary: { kind: 'binary', name: 'report.txt', size: 9000, data: btoa('\x00\x01AB'), truncated: true },
    };
    const url = vi.spyOn(URL, 'createObjectURL').mockReturnValue('blob:preview');
    for (const kind of ['text', 'image', 'binary'] as const) {
      host.answers.previewFile = () => previews[kind];
      const rows = within(dialog).getAllByRole('listitem');
      fireEvent.click(within(rows[2]!).getByRole('button', { name: 'Preview' }));
      const preview = await screen.findByRole('dialog', { name: 'Preview of report.txt' });
      if (kind === 'text') expect((await within(preview).findByLabelText('Text')).textContent).toBe('version one\n');
      if (kind === 'image') expect((await within(preview).findByRole('img')).getAttribute('src')).toBe('blob:preview');
      if (kind === 'binary')
        expect((await within(preview).findByLabelText('Hex')).textContent).toBe(
          '00000000  00 01 41 42' + ' '.repeat(36) + '  ..AB',
        );
      fireEvent.click(within(preview).getByRole('button', { name: 'Close' }));
      await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Preview of report.txt' })).toBeNull());
    }
    expect(host.called('previewFile')[0]).toEqual({ store: STORE.path, snapshot: ref(100), path: 'notes/report.txt' });
    url.mockRestore();
  });

  it('restores in place: a file changed since the backup is left alone until ticked, then a job', async () => {
    const preview = (overwriteNewer?: boolean): InPlacePreview => ({
      sources: ['/home/ann/docs'],
      changedSince: 1,
      counts: {
        restore: 0,
        unchanged: 0,
        overwrite: 0,
        'keep-both': overwriteNewer ? 1 : 0,
        skip: 0,
        'newer-local': overwriteNewer ? 0 : 1,
      },
      items: [
        {
          path: 'notes/report.txt',
          localPath: '/home/ann/docs/notes/report.txt',
          action: overwriteNewer ? 'keep-both' : 'newer-local',
          changedSince: true,
          ...(overwriteNewer ? { restoredAs: '/home/ann/docs/notes/report (restored 2026-12-03).txt' } : {}),
        },
      ],
    });
    host.answers.previewInPlace = ({ overwriteNewer }: { overwriteNewer?: boolean }) => preview(overwriteNewer);
    host.answers.startJob = (spec: unknown) =>
      ({
        id: 'j',
        kind: 'restore-in-place',
        title: 't',
        store: STORE.path,
        status: 'running',
        startedAt: 0,
        progress: { phase: 'restoring' },
        log: [],
        spec,
      }) as unknown as JobState;
    const history = await openHistory();
    fireEvent.click(within(within(history).getAllByRole('listitem')[2]!).getByRole('button', { name: 'Restore…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Restore to the original place' });
    await within(dialog).findByText(/changed there since the backup: left alone/);
    expect((within(dialog).getByRole('button', { name: 'Restore 0 files' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(within(dialog).getByLabelText(/Also for the file changed there since this backup/));
    await within(dialog).findByText(/kept, with the backed-up version put beside/);
    expect(within(dialog).getByText(/report \(restored 2026-12-03\)\.txt/)).toBeTruthy();
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Restore 1 file' }));
    });
    expect(host.called('startJob')).toEqual([
      {
        kind: 'restore-in-place',
        store: STORE.path,
        snapshot: ref(100),
        path: 'notes/report.txt',
        conflict: 'keep-both',
        overwriteNewer: true,
      },
    ]);
    expect(host.called('previewInPlace').at(-1)).toMatchObject({ conflict: 'keep-both', overwriteNewer: true });
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Restore to the original place' })).toBeNull());
  });

  it('says in words why an encrypted snapshot cannot go back to where it came from', async () => {
    host.answers.previewInPlace = () => ({
      refused: 'encrypted',
      message: 'host/docs/100 is encrypted, and an encrypted snapshot does not record the folder',
    });
    act(() => store.getState().openInPlace({ snapshot: ref(100), path: '' }));
    const dialog = await screen.findByRole('dialog', { name: 'Restore to the original place' });
    expect((await within(dialog).findByRole('alert')).textContent).toContain('does not record the folder');
    expect((within(dialog).getByRole('button', { name: 'Restore' }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('the search form and the hex view', () => {
  it('reads sizes in units of 1024 and refuses what is not one', () => {
    expect(parseSize('10M')).toBe(10 * 1024 * 1024);
    expect(parseSize('1.5 GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('500kb')).toBe(512_000);
    expect(parseSize('2048')).toBe(2048);
    expect(parseSize('ten')).toBeUndefined();
    expect(searchQuery({ ...NO_FIELDS, pattern: ' *.pdf ', minSize: '1M' })).toEqual({
      query: { pattern: '*.pdf', minSize: 1 << 20 },
    });
    expect(searchQuery({ ...NO_FIELDS, pattern: 'a', minSize: 'big' })).toEqual({
      error: 'At least: a size such as 500K, 10M or 1.5G',
    });
    expect(searchQuery({ ...NO_FIELDS, pattern: 'a', after: '2026-11-02', before: '2026-11-01' })).toMatchObject({
      error: expect.stringMatching(/must come after/),
    });
    expect(searchQuery({ ...NO_FIELDS, pattern: 'a', after: '2026-11-01' })).toEqual({
      query: { pattern: 'a', newerThan: new Date(2026, 10, 1).getTime() },
    });
    expect(searchQuery(NO_FIELDS)).toMatchObject({ error: expect.any(String) });
  });

  it('dumps 16 bytes a line with offsets and printable ASCII', () => {
    const bytes = Uint8Array.from({ length: 20 }, (_, i) => 0x41 + i);
    expect(hexDump(bytes).split('\n')).toEqual([
      '00000000  41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP',
      '00000010  51 52 53 54' + ' '.repeat(36) + '  QRST',
    ]);
  });
});
