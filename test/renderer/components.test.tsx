// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { useState, type ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatIsoTime } from '../../contract/format.js';
import type { JobState } from '../../contract/jobs.js';
import type { LastGc } from '../../contract/model.js';
import { createClient } from '../../renderer/src/api/client.js';
import { App } from '../../renderer/src/components/App.js';
import { ErrorNote } from '../../renderer/src/components/ErrorNote.js';
import { FolderBrowser } from '../../renderer/src/components/FolderBrowser.js';
import { GroupIdField } from '../../renderer/src/components/GroupIdField.js';
import { GroupRemotes } from '../../renderer/src/components/GroupRemotes.js';
import { JobCard } from '../../renderer/src/components/JobCard.js';
import { Modal } from '../../renderer/src/components/Modal.js';
import { RemoteCheckList } from '../../renderer/src/components/RemoteCheckList.js';
import { RemoteForm } from '../../renderer/src/components/RemoteForm.js';
import { RestoreDialog } from '../../renderer/src/components/RestoreDialog.js';
import { SnapshotActions } from '../../renderer/src/components/SnapshotActions.js';
import { connectEvents, createAppStore, type AppStore } from '../../renderer/src/state/app-store.js';
import { AppStoreContext } from '../../renderer/src/state/use-app.js';
import { fail, FakeTransport } from '../support/fake-transport.js';
import { WEB_APP_INFO } from '../support/app-info.js';

const STORE = {
  path: '/home/ann/store',
  chunkSize: 4 << 20,
  compression: 'zstd' as const,
  syncLevel: 'filesystem',
  created: 'x',
  groups: 0,
};

function job(extra: Partial<JobState>): JobState {
  return {
    id: 'j1',
    kind: 'backup',
    title: 'Backup of /home/ann/docs',
    store: STORE.path,
    status: 'running',
    startedAt: 0,
    progress: { phase: 'backing-up' },
    log: [],
    ...extra,
  };
}

let host: FakeTransport;
let store: AppStore;
const wrap = (ui: ReactNode) => render(<AppStoreContext.Provider value={store}>{ui}</AppStoreContext.Provider>);

/** Opens the store and leaves its overview for its first group's snapshots, where these tests look. */
async function openAtGroups() {
  await store.getState().openStore(STORE.path);
  const group = store.getState().selectedGroup;
  if (group) await store.getState().openGroup(group);
}

beforeEach(async () => {
  // happy-dom's <dialog> may lack the modal methods; the browser has them (the e2e test uses the real ones).
  HTMLDialogElement.prototype.showModal ??= function showModal(this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
  HTMLDialogElement.prototype.close ??= function close(this: HTMLDialogElement) {
    this.removeAttribute('open');
  };
  host = new FakeTransport();
  host.answers.getAppInfo = () => WEB_APP_INFO;
  host.answers.recentStores = () => [];
  host.answers.listJobs = () => [];
  host.answers.openStore = () => STORE;
  host.answers.storeDashboard = () => ({ sizeHistory: [], activity: [] });
  host.answers.listGroups = () => [];
  host.answers.gcStatus = () => ({ kind: 'never' });
  store = createAppStore(createClient(host));
  await store.getState().init();
});
afterEach(cleanup);

describe('JobCard', () => {
  it('shows a running backup: bar, files, bytes, rate, ETA, current file, cancel', () => {
    const onCancel = vi.fn();
    render(
      <JobCard
        job={job({
          progress: {
            phase: 'backing-up',
            filesDone: 1,
            filesTotal: 2,
            bytesDone: 512 * 1024,
            bytesTotal: 1024 * 1024,
            rate: 2 * 1024 * 1024,
            etaSeconds: 100,
            currentPath: 'reports/q1.bin',
          },
        })}
        onCancel={onCancel}
      />,
    );
    const bar = screen.getByRole('progressbar');
    expect(bar.getAttribute('aria-valuenow')).toBe('50');
    expect(screen.getByText('1 / 2 files')).toBeTruthy();
    expect(screen.getByText('512 KiB / 1.00 MiB')).toBeTruthy();
    expect(screen.getByText('2.00 MiB/s')).toBeTruthy();
    expect(screen.getByText('about 1 min 40 s left')).toBeTruthy();
    expect(screen.getByText('reports/q1.bin')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onCancel).toHaveBeenCalledWith('j1');
  });

  it('gives no ETA until the job has one, and shows a failure with its code and log', () => {
    const { rerender } = render(
      <JobCard job={job({ progress: { phase: 'scanning', filesTotal: 10 } })} onCancel={() => {}} />,
    );
    expect(screen.getByText('estimating time left…')).toBeTruthy();
    rerender(
      <JobCard
        job={job({
          status: 'failed',
          error: { code: 'STORE_LOCKED', message: 'busy: backup of host/docs by pid 4711' },
          log: [{ time: 0, level: 'error', message: 'busy' }],
        })}
        onCancel={() => {}}
      />,
    );
    const alert = screen.getByRole('alert');
    expect(alert.getAttribute('data-code')).toBe('STORE_LOCKED');
    expect(alert.textContent).toContain('pid 4711');
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Show log (1)' }));
    expect(screen.getByText(/error: busy/)).toBeTruthy();
  });

  it('shows a verify that found damage as needing attention, with the damaged files and what to do', () => {
    const problems = Array.from({ length: 60 }, (_, i) => ({
      path: `host/docs/2026-12-01T10:00:00Z: /f${i}.bin`,
      message: `chunk ab${i} is damaged`,
    }));
    render(
      <JobCard
        job={job({
          kind: 'verify',
          title: 'Verify host/docs',
          status: 'attention',
          result: {
            kind: 'verify',
            ok: false,
            snapshots: 1,
            failed: 1,
            skipped: 0,
            chunksChecked: 1234,
            missingChunks: 0,
          },
          problems,
          problemCount: 75,
          advice: { kind: 'verify', groups: [{ group: 'host/docs', source: '/home/ann/docs' }] },
          progress: { phase: 'verifying' },
        })}
        onCancel={() => {}}
      />,
    );
    expect(screen.getByText('Needs attention')).toBeTruthy();
    // The host sent counts; the card words them.
    expect(screen.getByText('0 of 1 snapshot ok, 1 damaged; 1,234 chunks checked')).toBeTruthy();
    const list = screen.getByRole('alert', { name: 'Problems found' });
    expect(list.textContent).toContain('host/docs/2026-12-01T10:00:00Z: /f0.bin');
    expect(list.textContent).toContain('…and 25 more (see the log)');
    // The advice arrives as fields too.
    expect(list.textContent).toContain(
      'What to do: Back up /home/ann/docs (host/docs) again: that writes the damaged and missing chunks anew while ' +
        'the files are still there. Then verify again.',
    );
    expect(screen.queryByText('Done')).toBeNull();
  });

  it("a plan's run that failed after its backup shows what it made, what it left out, and the error", () => {
    render(
      <JobCard
        job={job({
          kind: 'plan-run',
          title: 'Plan “Docs”',
          status: 'failed',
          result: { kind: 'plan-run', plan: 'Docs', files: 3, snapshot: 'host/docs/2026-12-01T10:00:00Z', leftOut: 1 },
          problems: [{ path: 'private/diary.txt', message: 'permission denied' }],
          problemCount: 1,
          advice: { kind: 'left-out' },
          error: { code: 'IO', message: 'backed up to host/docs/2026-12-01T10:00:00Z, but the off-site copy failed' },
          progress: { phase: 'sending the off-site copy' },
        })}
        onCancel={() => {}}
      />,
    );
    expect(screen.getByText('Failed')).toBeTruthy();
    expect(screen.getByText(/^Plan “Docs”: backed up 3 files to host\/docs\/2026-12-01T10:00:00Z/)).toBeTruthy();
    expect(screen.getByRole('alert', { name: 'Problems found' }).textContent).toContain(
      'private/diary.txt permission denied',
    );
    expect(screen.getByText(/but the off-site copy failed$/)).toBeTruthy();
  });

  it('names each phase in words, in the status line and on a bar that has no percentage yet', () => {
    const { rerender } = render(
      <JobCard job={job({ progress: { phase: 'backing-up', bytesDone: 1, bytesTotal: 4 } })} onCancel={() => {}} />,
    );
    expect(screen.getByText('Running · backing up')).toBeTruthy();
    rerender(<JobCard job={job({ progress: { phase: 'scanning' } })} onCancel={() => {}} />);
    expect(screen.getByText('Running · scanning')).toBeTruthy();
    expect(screen.getByRole('progressbar').getAttribute('aria-valuetext')).toBe('scanning');
    rerender(<JobCard job={job({ progress: { phase: 'finishing' } })} onCancel={() => {}} />);
    expect(screen.getByRole('progressbar').getAttribute('aria-valuetext')).toBe('finishing');
    rerender(<JobCard job={job({ progress: { phase: 'restoring 1 of 3' } })} onCancel={() => {}} />);
    expect(screen.getByText('Running · restoring 1 of 3')).toBeTruthy();
    rerender(
      <JobCard
        job={job({ kind: 'gc', title: 'GC', progress: { phase: 'mark', indexFilesTotal: 2, prefixesTotal: 65536 } })}
        onCancel={() => {}}
      />,
    );
    expect(screen.getByText('Running · marking chunks in use')).toBeTruthy();
    rerender(
      <JobCard
        job={job({ kind: 'gc', title: 'GC', progress: { phase: 'sweep', indexFilesTotal: 2, prefixesTotal: 65536 } })}
        onCancel={() => {}}
      />,
    );
    expect(screen.getByText('Running · removing unused chunks')).toBeTruthy();
  });

  it('shows GC as two phases with their own bars, then the result', () => {
    const { rerender } = render(
      <JobCard
        job={job({
          kind: 'gc',
          title: 'GC',
          progress: { phase: 'mark', indexFilesDone: 3, indexFilesTotal: 4, chunksMarked: 120, prefixesTotal: 65536 },
        })}
        onCancel={() => {}}
      />,
    );
    expect(screen.getByRole('progressbar', { name: 'Mark phase' }).getAttribute('aria-valuenow')).toBe('75');
    expect(screen.getByRole('progressbar', { name: 'Sweep phase' }).getAttribute('aria-valuenow')).toBe('0');
    expect(screen.getByText(/120 chunks marked/)).toBeTruthy();
    rerender(
      <JobCard
        job={job({
          kind: 'gc',
          title: 'GC',
          progress: {
            phase: 'sweep',
            indexFilesDone: 4,
            indexFilesTotal: 4,
            prefixesDone: 16384,
            prefixesTotal: 65536,
            removedChunks: 2,
            removedBytes: 2048,
          },
        })}
        onCancel={() => {}}
      />,
    );
    expect(screen.getByRole('progressbar', { name: 'Mark phase' }).getAttribute('aria-valuenow')).toBe('100');
    expect(screen.getByRole('progressbar', { name: 'Sweep phase' }).getAttribute('aria-valuenow')).toBe('25');
    expect(screen.getByText(/2 chunks removed \(2.00 KiB freed\)/)).toBeTruthy();
    rerender(
      <JobCard
        job={job({
          kind: 'gc',
          title: 'GC',
          status: 'done',
          progress: { phase: 'sweep', prefixesDone: 65536, prefixesTotal: 65536 },
          result: {
            kind: 'gc',
            removedBytes: 4096,
            removedChunks: 1,
            pendingBytes: 0,
            pendingChunks: 0,
            diskBytes: 1 << 20,
            diskChunks: 3,
            dedupFactor: 2.5,
            durationMs: 1500,
            indexFileCount: 2,
            indexDataBytes: 10 << 20,
            missingChunks: 0,
            warnings: 0,
          },
        })}
        onCancel={() => {}}
      />,
    );
    const result = within(screen.getByLabelText('Garbage collection result'));
    expect(result.getByText('4.00 KiB (1 chunk)')).toBeTruthy();
    expect(result.getByText('2.50×')).toBeTruthy();
    expect(result.getByText('2 s')).toBeTruthy();
    expect(
      screen.getByText('Freed 4.00 KiB (1 chunk); 0 B pending, 1.00 MiB in use, dedup 2.50×, in 2 s'),
    ).toBeTruthy();
  });
});

describe('ErrorNote', () => {
  it('says what to do for the codes the user can act on', () => {
    render(<ErrorNote error={{ code: 'STORE_LOCKED', message: 'busy' }} />);
    expect(screen.getByRole('alert').textContent).toContain('Wait for it to finish');
  });
});

describe('the app', () => {
  it('creates a store with the chosen chunk size and compression', async () => {
    host.answers.startJob = (spec: unknown) => job({ kind: 'create-store', ...(spec as object) });
    wrap(<App />);
    fireEvent.change(screen.getByLabelText('New datastore folder (empty or new)'), {
      target: { value: '/home/ann/new-store' },
    });
    fireEvent.change(screen.getByLabelText('Chunk size'), { target: { value: '1024' } });
    fireEvent.change(screen.getByLabelText('Compression'), { target: { value: 'none' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    });
    expect(host.called('startJob')).toEqual([
      { kind: 'create-store', path: '/home/ann/new-store', chunkSize: 1024 * 1024, compression: 'none' },
    ]);
  });

  it('turns a dropped folder into the backup dialog, previews excludes, and starts the backup', async () => {
    await openAtGroups();
    wrap(<App />);
    const file = new File([''], 'My Docs');
    await act(async () => {
      fireEvent.drop(document.querySelector('.app')!, { dataTransfer: { files: [file] } });
    });
    // A browser cannot tell the dropped folder's path: the dialog says so and asks for it.
    expect(screen.getByText(/You dropped “My Docs”/)).toBeTruthy();
    expect((screen.getByLabelText('Backup group id') as HTMLInputElement).value).toBe('My-Docs');
    fireEvent.change(screen.getByLabelText('Folder to back up'), { target: { value: '/home/ann/My Docs' } });
    fireEvent.change(screen.getByLabelText('Exclude (one .gitignore pattern per line)'), {
      target: { value: '*.tmp\n\nnode_modules/\n' },
    });
    host.answers.previewExcludes = () => ({
      paths: [{ path: 'a.tmp', isDirectory: false, bytes: 10 }],
      excluded: 1,
      excludedBytes: 10,
      files: 5,
      bytes: 5000,
      truncated: false,
      leftOut: { count: 1, named: [{ path: 'private/', reason: 'permission denied' }] },
    });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Preview what is excluded' }));
    });
    expect(host.called('previewExcludes')).toEqual([
      { source: '/home/ann/My Docs', patterns: ['*.tmp', 'node_modules/'] },
    ]);
    expect(screen.getByLabelText('Exclude preview').textContent).toContain('a.tmp');
    // What the backup could not take is said before it runs.
    expect(screen.getByRole('note', { name: 'Entries that cannot be read' }).textContent).toBe(
      '1 entry cannot be read and would be left out of the backup. Give Cairn read access to it, or exclude it.' +
        'private/ permission denied',
    );
    host.answers.checkBackupSource = () => ({ matches: true });
    host.answers.startJob = () => job({});
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Start backup' }));
    });
    expect(host.called('checkBackupSource')).toEqual([
      { store: STORE.path, source: '/home/ann/My Docs', id: 'My-Docs' },
    ]);
    expect(host.called('startJob')).toEqual([
      {
        kind: 'backup',
        store: STORE.path,
        source: '/home/ann/My Docs',
        id: 'My-Docs',
        excludes: ['*.tmp', 'node_modules/'],
      },
    ]);
    expect(screen.queryByRole('button', { name: 'Start backup' })).toBeNull();
    expect(screen.getByRole('article', { name: 'Backup of /home/ann/docs' })).toBeTruthy();
  });

  it('takes a drop before any store is open, and says to open one first', async () => {
    wrap(<App />);
    // The browser's default (open the dropped item, leaving the app) is prevented.
    expect(fireEvent.dragOver(document.querySelector('.app')!)).toBe(false);
    await act(async () => {
      fireEvent.drop(document.querySelector('.app')!, { dataTransfer: { files: [new File([''], 'Photos')] } });
    });
    expect(screen.getByRole('alert').textContent).toContain('To back up “Photos”, open or create a datastore first');
    expect(screen.queryByRole('button', { name: 'Start backup' })).toBeNull();
  });

  it('keeps the dialog open and shows the error where a backup was refused', async () => {
    await openAtGroups();
    store.getState().openBackupDialog('/etc');
    wrap(<App />);
    host.answers.checkBackupSource = () =>
      fail('PATH_NOT_ALLOWED', 'folder to back up /etc is outside the folders Cairn may use');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Start backup' }));
    });
    expect(screen.getByRole('button', { name: 'Start backup' })).toBeTruthy();
    expect(screen.getByRole('alert').getAttribute('data-code')).toBe('PATH_NOT_ALLOWED');
    expect(host.called('startJob')).toEqual([]);
  });

  it('asks before backing up another folder into a group that records its own, and offers a group of its own', async () => {
    await openAtGroups();
    store.getState().openBackupDialog('/home/ann/other/project');
    wrap(<App />);
    host.answers.checkBackupSource = () => ({
      matches: false,
      recorded: '/home/ann/Code/project',
      suggestedId: 'other-project',
    });
    host.answers.startJob = () => job({});
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Start backup' }));
    });
    expect(host.called('startJob')).toEqual([]);
    expect(screen.getByRole('alert').textContent).toContain(
      'host/project already holds backups of /home/ann/Code/project',
    );
    // Its own group: the id changes, and that backup starts without asking again.
    host.answers.checkBackupSource = () => ({ matches: true });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Use a group of its own: host/other-project' }));
    });
    expect((screen.getByLabelText('Backup group id') as HTMLInputElement).value).toBe('other-project');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Start backup' }));
    });
    expect(host.called('startJob')).toEqual([
      { kind: 'backup', store: STORE.path, source: '/home/ann/other/project', id: 'other-project', excludes: [] },
    ]);
  });

  it('backs up into the group anyway once the user says the folder moved', async () => {
    await openAtGroups();
    store.getState().openBackupDialog('/home/ann/other/project');
    wrap(<App />);
    host.answers.checkBackupSource = () => ({
      matches: false,
      recorded: '/home/ann/Code/project',
      suggestedId: 'other-project',
    });
    host.answers.startJob = () => job({});
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Start backup' }));
    });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Back up into host/project anyway' }));
    });
    expect(host.called('startJob')).toEqual([
      {
        kind: 'backup',
        store: STORE.path,
        source: '/home/ann/other/project',
        id: 'project',
        excludes: [],
        allowOtherSource: true,
      },
    ]);
  });
});

describe('the actions of a plan snapshot with folders and disk images', () => {
  it('offers Browse for the folders and Restore image… for the chosen image', async () => {
    await store.getState().openStore(STORE.path);
    const row = {
      type: 'host' as const,
      id: 'everything',
      time: 100,
      path: 'host/everything/100',
      finished: true,
      protected: false,
      kind: 'folder' as const,
      archives: ['folder.data.didx', 'folder.meta.didx', 'vm1-disk.img.fidx', 'vm2-disk.img.fidx'],
    };
    wrap(<SnapshotActions row={row} />);
    const toolbar = within(screen.getByRole('toolbar', { name: 'Snapshot actions' }));
    expect((toolbar.getByRole('button', { name: 'Browse' }) as HTMLButtonElement).disabled).toBe(false);
    expect(toolbar.queryByText('A disk image has no files to browse: restore it to a file.')).toBeNull();
    fireEvent.click(toolbar.getByRole('button', { name: 'Restore image…' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Restore image' }));
    const choice = dialog.getByRole('combobox') as HTMLSelectElement;
    expect([...choice.options].map((o) => o.value)).toEqual(['vm1-disk.img.fidx', 'vm2-disk.img.fidx']);
  });
});

describe('deleting a group', () => {
  const snap = (time: number, prot = false) => ({
    type: 'host' as const,
    id: 'docs',
    time,
    path: `host/docs/${time}`,
    finished: true,
    protected: prot,
    kind: 'folder' as const,
    archives: [],
  });

  it('marks an empty group (a cancelled first backup) and offers to delete it', async () => {
    host.answers.listGroups = () => [
      { type: 'host', id: 'docs', path: 'host/docs', snapshotCount: 1, notes: '', lastBackup: 100 },
      { type: 'host', id: 'photos', path: 'host/photos', snapshotCount: 0, notes: '' },
    ];
    host.answers.listSnapshots = ({ group }: { group: { id: string } }) => (group.id === 'docs' ? [snap(100)] : []);
    await openAtGroups();
    wrap(<App />);
    const empty = screen.getByRole('option', { name: /photos/ });
    expect(empty.textContent).toContain('empty: no snapshots');
    expect(empty.className).toContain('empty');
    await act(async () => {
      fireEvent.click(empty);
    });
    const pane = screen.getByRole('region', { name: 'Snapshots of host/photos' });
    expect(within(pane).getByText(/This group has no snapshots/).textContent).toContain(
      'a first backup that was cancelled or failed',
    );
    fireEvent.click(within(pane).getAllByRole('button', { name: 'Delete group…' })[0]!);
    const dialog = screen.getByRole('dialog', { name: 'Delete group host/photos?' });
    expect(dialog.textContent).toContain('host/photos has no snapshots; deleting it removes the empty group.');
    host.answers.startJob = () => job({ kind: 'delete-group', title: 'Delete group host/photos' });
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Delete group' }));
    });
    expect(host.called('startJob')).toEqual([
      { kind: 'delete-group', store: STORE.path, group: { type: 'host', id: 'photos' } },
    ]);
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('says how many snapshots go and that protected ones stay, with "Keep it" first', async () => {
    host.answers.listGroups = () => [
      { type: 'host', id: 'docs', path: 'host/docs', snapshotCount: 4, notes: '', lastBackup: 400 },
    ];
    host.answers.listSnapshots = () => [snap(100, true), snap(200), snap(300), snap(400)];
    await openAtGroups();
    wrap(<App />);
    fireEvent.click(screen.getByRole('button', { name: 'Delete group…' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete group host/docs?' });
    expect(dialog.textContent).toContain(
      '3 snapshots of host/docs are removed now; 1 protected snapshot stays, and the group with it.',
    );
    expect(dialog.textContent).toContain('garbage collection');
    const buttons = within(dialog)
      .getAllByRole('button')
      .filter((b) => !b.classList.contains('modal-close'));
    expect(buttons.map((b) => b.textContent)).toEqual(['Keep it', 'Delete group']);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Keep it' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(host.called('startJob')).toEqual([]);
  });

  it('says "1 snapshot … is removed now, and the group with it"', async () => {
    host.answers.listGroups = () => [
      { type: 'host', id: 'docs', path: 'host/docs', snapshotCount: 1, notes: '', lastBackup: 100 },
    ];
    host.answers.listSnapshots = () => [snap(100)];
    await openAtGroups();
    wrap(<App />);
    fireEvent.click(screen.getByRole('button', { name: 'Delete group…' }));
    expect(screen.getByRole('dialog').textContent).toContain(
      '1 snapshot of host/docs is removed now, and the group with it.',
    );
  });
});

describe('sizes with their meaning', () => {
  it('explains New and Deduplicated in the table, and shows the chunks the store holds on disk', async () => {
    host.answers.listGroups = () => [{ type: 'host', id: 'docs', path: 'host/docs', snapshotCount: 1, notes: '' }];
    host.answers.listSnapshots = () => [
      {
        type: 'host',
        id: 'docs',
        time: 100,
        path: 'host/docs/1970-01-01T00:01:40Z',
        finished: true,
        protected: false,
        kind: 'folder',
        archives: [],
        newBytes: 2048,
        dedupBytes: 1024,
      },
    ];
    host.answers.storeUsage = () => ({ chunks: 1234, bytes: 5 * 1024 * 1024 * 1024 });
    await openAtGroups();
    wrap(<App />);
    const head = (name: string) => screen.getByRole('columnheader', { name });
    expect(head('New').getAttribute('title')).toBe('Bytes this backup added to the store, compressed');
    expect(head('Deduplicated').getAttribute('title')).toMatch(/^Bytes the store had already/);
    const legend = screen.getByLabelText('What the sizes mean');
    expect(legend.textContent).toContain('New: bytes this backup added to the store, compressed.');
    expect(legend.textContent).toContain(
      'Deduplicated: bytes the store had already (shared chunks, unchanged files), not written again.',
    );
    expect(screen.getByLabelText('Datastore size').querySelector('.figure')!.textContent).toBe(
      'Store size: 5.00 GiB in 1,234 chunks',
    );
    expect(host.called('storeUsage')).toEqual([{ store: STORE.path }]);
  });
});

describe('the last garbage collection in the top bar', () => {
  const shown = () => screen.getByLabelText('Last garbage collection').textContent;
  async function hostAnswers(gc: LastGc): Promise<void> {
    host.answers.gcStatus = () => gc;
    await act(async () => {
      host.push('store.changed', { store: STORE.path });
    });
  }

  it('says "never" only for a store without a GC status, "unknown" for one Cairn cannot read, else the last run', async () => {
    await openAtGroups();
    connectEvents(store);
    wrap(<App />);
    expect(shown()).toBe('No garbage collection has run on this store yet.');

    // PBS's .gc-status, or a damaged one: the store may well have had a GC, so not "never".
    await hostAnswers({ kind: 'unknown' });
    expect(shown()).toBe(
      "Last garbage collection unknown (the store's .gc-status is not one Cairn wrote, e.g. PBS's, or is damaged).",
    );

    const startedAt = '2026-12-01T10:00:00Z';
    await hostAnswers({
      kind: 'ran',
      summary: {
        startedAt,
        durationMs: 61_000,
        removedChunks: 2,
        removedBytes: 2048,
        pendingChunks: 1,
        pendingBytes: 512,
        diskChunks: 10,
        diskBytes: 3 << 20,
        indexFileCount: 4,
        indexDataBytes: 12 << 20,
        dedupFactor: 4,
        missingChunks: 0,
        completed: true,
      },
    });
    expect(shown()).toBe(
      `Last GC ${formatIsoTime(startedAt)}: freed 2.00 KiB, 512 B pending, 3.00 MiB in use, dedup 4.00×, took 1 min 1 s`,
    );
  });
});

describe('a store that went missing while open', () => {
  const docs = { type: 'host' as const, id: 'docs', path: 'host/docs', snapshotCount: 0, notes: '' };

  it('says it is missing (not that a store should be made there), disables GC, Verify and Back up, and recovers on Try again', async () => {
    host.answers.listGroups = () => [docs];
    host.answers.listSnapshots = () => [];
    await openAtGroups();
    connectEvents(store);
    wrap(<App />);
    // The drive is unplugged: the host's poll announces a change, and every read now finds no store.
    const gone = () => fail('STORE_MISSING', `no Cairn datastore at ${STORE.path} (cairn.json not found)`);
    host.answers.listGroups = gone;
    host.answers.listSnapshots = gone;
    host.answers.openStore = gone;
    await act(async () => {
      host.push('store.changed', { store: STORE.path });
    });

    const alert = screen.getByRole('alert', { name: 'Datastore missing' });
    expect(alert.textContent).toContain(`The datastore ${STORE.path} is missing`);
    expect(alert.textContent).toMatch(/drive .*unplugged.*moved or deleted/);
    expect(document.body.textContent).not.toMatch(/create a new datastore there/i);
    expect(screen.getAllByRole('alert')).toHaveLength(1); // the panes do not each repeat it
    // Unknown while it is gone: not "counting…", not "no GC has run".
    expect(screen.queryByLabelText('Datastore size')).toBeNull();
    expect(screen.queryByLabelText('Last garbage collection')).toBeNull();
    for (const name of [
      'Run garbage collection',
      'Verify all snapshots',
      'Back up a folder…',
      'Back up a disk image…',
      'Verify group',
      'Prune…',
    ]) {
      expect((screen.getByRole('button', { name }) as HTMLButtonElement).disabled, name).toBe(true);
    }
    await act(async () => {
      fireEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    });
    expect(screen.getByRole('alert', { name: 'Datastore missing' })).toBeTruthy();

    // Plugged in again.
    host.answers.openStore = () => STORE;
    host.answers.listGroups = () => [docs];
    host.answers.listSnapshots = () => [];
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    });
    expect(screen.queryByRole('alert', { name: 'Datastore missing' })).toBeNull();
    expect((screen.getByRole('button', { name: 'Run garbage collection' }) as HTMLButtonElement).disabled).toBe(false);
    expect((screen.getByRole('button', { name: 'Back up a folder…' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('offers to choose another store', async () => {
    await openAtGroups();
    host.answers.listGroups = () => fail('STORE_MISSING', 'no Cairn datastore');
    await store.getState().refreshGroups();
    wrap(<App />);
    fireEvent.click(screen.getByRole('button', { name: 'Choose another datastore' }));
    expect(screen.getByRole('heading', { name: 'Open a datastore' })).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('backing up a disk image', () => {
  it('takes the id from the file name, asks about another image in the group, and starts an image backup', async () => {
    await openAtGroups();
    wrap(<App />);
    fireEvent.click(screen.getByRole('button', { name: 'Back up a disk image…' }));
    const dialog = screen.getByRole('dialog', { name: 'Back up a disk image' });
    expect(dialog.textContent).toContain("Taken from the file's name");
    fireEvent.change(within(dialog).getByLabelText('Disk image file'), {
      target: { value: '/home/ann/vm/disk.qcow2' },
    });
    expect((within(dialog).getByLabelText('Backup group id') as HTMLInputElement).value).toBe('disk');
    host.answers.checkBackupSource = () => ({
      matches: false,
      recorded: '/home/ann/old/disk.qcow2',
      suggestedId: 'vm-disk',
    });
    host.answers.startJob = () => job({ kind: 'backup-image' });
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Start image backup' }));
    });
    expect(host.called('checkBackupSource')).toEqual([
      { store: STORE.path, source: '/home/ann/vm/disk.qcow2', id: 'disk', kind: 'image' },
    ]);
    expect(within(dialog).getByRole('alert').textContent).toContain(
      'host/disk already holds backups of /home/ann/old/disk.qcow2.',
    );
    expect(within(dialog).getByRole('alert').textContent).toContain('would mix two sources in one group');
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Back up into host/disk anyway' }));
    });
    expect(host.called('startJob')).toEqual([
      {
        kind: 'backup-image',
        store: STORE.path,
        source: '/home/ann/vm/disk.qcow2',
        id: 'disk',
        allowOtherSource: true,
      },
    ]);
    expect(screen.queryByRole('dialog')).toBeNull();
  });
});

describe('counts in words', () => {
  const one = {
    type: 'host' as const,
    id: 'docs',
    time: 100,
    path: 'host/docs/1970-01-01T00:01:40Z',
    finished: true,
    protected: false,
    kind: 'folder' as const,
    archives: [],
  };

  it('never counts an unfinished snapshot (a backup running, or cut short) as a backup in the group list', async () => {
    const row = { type: 'host', id: 'docs', path: 'host/docs', notes: '' };
    host.answers.listGroups = () => [
      { ...row, snapshotCount: 1, unfinishedCount: 1 },
      { ...row, id: 'mail', path: 'host/mail', snapshotCount: 3, unfinishedCount: 1, lastBackup: 100, lastSize: 5 },
    ];
    host.answers.listSnapshots = () => [];
    await openAtGroups();
    wrap(<App />);
    const [docs, mail] = screen.getAllByRole('option');
    expect(docs!.textContent).toBe('host docsno finished snapshot yet (+1 unfinished)');
    expect(mail!.textContent).toMatch(/^host mail2 snapshots \(\+1 unfinished\) · 5 B/);
  });

  it('says "1 snapshot" in the group list and the table, and "0 of 1 snapshot" in the prune simulation', async () => {
    host.answers.listGroups = () => [{ type: 'host', id: 'docs', path: 'host/docs', snapshotCount: 1, notes: '' }];
    host.answers.listSnapshots = () => [one];
    host.answers.simulatePrune = () => [
      { path: one.path, time: one.time, protected: false, mark: 'keep', outcome: 'kept', reason: 'keep-last 1' },
    ];
    await openAtGroups();
    wrap(<App />);
    expect(screen.getByRole('option').textContent).toMatch(/^host docs1 snapshot · /);
    expect(within(screen.getByRole('region', { name: 'Snapshots of host/docs' })).getByText('1 snapshot')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Prune…' }));
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Simulate' }));
    });
    expect(screen.getByText('0 of 1 snapshot would be removed. Nothing has been removed yet.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Prune 0 snapshots' })).toBeTruthy();
  });

  it('says "1 file in this folder" in the folder browser', async () => {
    host.answers.listFolder = () => ({ path: '/home/ann', folders: [], fileCount: 1 });
    wrap(<FolderBrowser />);
    await act(async () => {
      void store.getState().pickFolder('Folder to back up');
    });
    expect(await screen.findByText('1 file in this folder.')).toBeTruthy();
  });
});

describe('FolderBrowser', () => {
  const photos = {
    path: '/home/ann/photos',
    parent: '/home/ann',
    folders: [{ name: '2024', path: '/home/ann/photos/2024' }],
    fileCount: 3,
  };
  const home = { path: '/home/ann', folders: [{ name: 'docs', path: '/home/ann/docs' }], fileCount: 9 };

  /**
   * Opens the browser; the home listing it asks for on open waits until `answerHome` is called, while
   * /home/ann/photos answers at once.
   */
  async function openWithHomePending() {
    let answer: (listing: unknown) => void = () => {};
    host.answers.listFolder = (req: { path?: string }) =>
      req.path === photos.path
        ? photos
        : new Promise((resolve) => {
            answer = resolve;
          });
    wrap(<FolderBrowser />);
    act(() => {
      void store.getState().pickFolder('Folder to back up');
    });
    const dialog = await screen.findByRole('dialog');
    const field = within(dialog).getByLabelText('Folder') as HTMLInputElement;
    const answerHome = () =>
      act(async () => {
        answer(home);
      });
    return { dialog, field, answerHome };
  }

  it('shows the folder the user went to, even when the listing asked for on open answers after it', async () => {
    const { dialog, field, answerHome } = await openWithHomePending();
    fireEvent.change(field, { target: { value: photos.path } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Go' }));
    await within(dialog).findByRole('button', { name: '2024/' });
    // The home listing asked for on open comes last: it must not replace where the user went.
    await answerHome();
    expect(within(dialog).getByRole('button', { name: '2024/' })).toBeTruthy();
    expect(within(dialog).queryByRole('button', { name: 'docs/' })).toBeNull();
    expect(field.value).toBe(photos.path);
  });

  it('keeps what the user typed when the listing asked for on open answers before they press Go', async () => {
    const { dialog, field, answerHome } = await openWithHomePending();
    fireEvent.change(field, { target: { value: photos.path } });
    // The home listing arrives while the typed path waits for Go: it is shown, but the typed path stays.
    await answerHome();
    await within(dialog).findByRole('button', { name: 'docs/' });
    expect(field.value).toBe(photos.path);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Go' }));
    await within(dialog).findByRole('button', { name: '2024/' });
    expect(field.value).toBe(photos.path);
  });

  it('does not change the field while the cursor is in it, so a listing that lands mid-typing cannot mix into the text', async () => {
    const { dialog, field, answerHome } = await openWithHomePending();
    act(() => field.focus());
    await answerHome();
    await within(dialog).findByRole('button', { name: 'docs/' });
    expect(field.value).toBe('');
  });
});

describe('RestoreDialog', () => {
  it('says that chosen entries arrive directly in the folder, a file in a folder without its folders', () => {
    const paths = ['/docs/meeting notes 2026.txt', '/photos'];
    wrap(<RestoreDialog request={{ what: 'selected', paths }} onClose={() => {}} onRestore={async () => {}} />);
    expect(screen.getByText(/^2 selected items will be restored/).textContent).toBe(
      '2 selected items will be restored into the folder below, each directly in it under its own name ' +
        '(docs/meeting notes 2026.txt arrives as meeting notes 2026.txt); a folder comes with what is in it.',
    );
  });

  it("asks for a damaged file's readable rest only when the box is ticked", async () => {
    const onRestore = vi.fn(async () => {});
    wrap(<RestoreDialog request={{ what: 'everything' }} onClose={() => {}} onRestore={onRestore} />);
    fireEvent.change(screen.getByLabelText('Restore into folder'), { target: { value: '/home/ann/back' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Restore' }));
    });
    expect(onRestore).toHaveBeenLastCalledWith('/home/ann/back', false, false);
    fireEvent.click(screen.getByLabelText(/Keep what can be read of a damaged file/));
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Restore' }));
    });
    expect(onRestore).toHaveBeenLastCalledWith('/home/ann/back', false, true);
  });

  it('says what is in the chosen folder already, and what the restore does with what differs', async () => {
    const asked: string[] = [];
    const preview = async (target: string) => {
      asked.push(target);
      return {
        added: 2,
        same: 10,
        differ: 7,
        differing: ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt', 'f.txt', 'g.txt'],
      };
    };
    wrap(
      <RestoreDialog
        request={{ what: 'everything' }}
        onClose={() => {}}
        onRestore={async () => {}}
        preview={preview}
      />,
    );
    fireEvent.change(screen.getByLabelText('Restore into folder'), { target: { value: '/home/ann/docs' } });
    const note = await screen.findByRole('status', { name: 'What is in the folder' }, { timeout: 2000 });
    expect(asked.at(-1)).toBe('/home/ann/docs');
    expect(note.textContent).toContain(
      'In this folder: 2 files to add, 10 there as backed up, 7 that differ in size or date (kept as they are; the backed-up ones are not restored).',
    );
    expect(note.textContent).toContain('e.txt…and 2 more');
    fireEvent.click(screen.getByLabelText(/Replace existing files/));
    expect(note.textContent).toContain(
      '10 there as backed up (written again), 7 that differ in size or date (replaced with the backed-up ones, with any changes made to them since).',
    );
  });

  it("does not show the error another dialog left, only one of its own request's", async () => {
    store.setState({ jobError: { code: 'PATH_NOT_ALLOWED', message: 'a push dialog closed after this' } });
    const onRestore = vi.fn(async () => {
      store.setState({ jobError: { code: 'IO', message: 'the target folder is full' } });
    });
    wrap(<RestoreDialog request={{ what: 'everything' }} onClose={() => {}} onRestore={onRestore} />);
    expect(screen.queryByText('a push dialog closed after this')).toBeNull();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Restore' }));
    });
    expect(screen.getByText('the target folder is full')).toBeTruthy();
  });
});

describe('a remote check in words', () => {
  afterEach(cleanup);

  it('says a bucket that did not answer as its reason, not as missing features or credentials', () => {
    const detail =
      'remote nowhere (http://127.0.0.1:1, bucket backups): cannot open the bucket: the service cannot be reached';
    render(
      <RemoteCheckList result={{ ok: false, requests: 5, capabilities: [{ name: 'bucket', ok: false, detail }] }} />,
    );
    const result = screen.getByRole('status', { name: 'Check result' });
    expect(result.querySelector('.remote-check-summary')!.textContent).toBe(`Cairn cannot use this remote: ${detail}`);
    expect(result.textContent).not.toMatch(/Missing|credentials/);
  });

  it('names the missing features of a service that answers', () => {
    render(
      <RemoteCheckList
        result={{
          ok: false,
          requests: 9,
          capabilities: [
            { name: 'bucket', ok: true, detail: 'the bucket answers, the credentials work' },
            { name: 'conditional-create', ok: false, detail: 'If-None-Match: * is ignored' },
          ],
        }}
      />,
    );
    expect(screen.getByText('Missing: safe uploads from several computers (conditional create).')).toBeTruthy();
    expect(screen.getAllByRole('listitem')).toHaveLength(2);
  });
});

describe('adding a remote', () => {
  const UNREACHED = {
    ok: false,
    requests: 1,
    capabilities: [
      { name: 'bucket' as const, ok: false, detail: 'cannot open the bucket: the service cannot be reached' },
    ],
  };
  const WORKS = {
    ok: true,
    requests: 9,
    capabilities: [{ name: 'bucket' as const, ok: true, detail: 'the bucket answers, the credentials work' }],
  };

  function fill(): void {
    const field = (label: string, value: string) =>
      fireEvent.change(screen.getByLabelText(label, { exact: true }), { target: { value } });
    field('Name', 'offsite');
    field('Endpoint', 'http://127.0.0.1:1');
    field('Bucket', 'backups');
    field('Access key ID', 'AK');
    field('Secret access key', 'SK');
  }

  beforeEach(() => {
    host.answers.listRemotes = () => [];
    host.answers.addRemote = (req: { name: string }) => ({ name: req.name });
  });

  it('checks a remote that was not checked before adding it, and adds one that fails only when asked again', async () => {
    host.answers.checkRemote = () => UNREACHED;
    const onClose = vi.fn();
    wrap(<RemoteForm onClose={onClose} />);
    fill();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Add remote' })));
    expect(host.called('checkRemote')).toHaveLength(1);
    expect(host.called('addRemote')).toEqual([]);
    expect(screen.getByRole('status', { name: 'Check result' }).textContent).toMatch(/cannot be reached/);
    expect(screen.getByText(/^Not saved yet\. “Add anyway” saves it as it is/)).toBeTruthy();
    expect(onClose).not.toHaveBeenCalled();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Add anyway' })));
    expect(host.called('checkRemote')).toHaveLength(1);
    expect(host.called('addRemote')).toHaveLength(1);
    expect(onClose).toHaveBeenCalled();
  });

  it('offers no "Add anyway" for a field the host refuses (saving it would be refused too)', async () => {
    host.answers.checkRemote = () => fail('INVALID_ARGUMENT', 'invalid remote: bucket: an S3 bucket name');
    wrap(<RemoteForm onClose={() => {}} />);
    fill();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Add remote' })));
    expect(screen.getByText(/an S3 bucket name/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Add anyway' })).toBeNull();
    expect(screen.queryByText(/^Not saved yet/)).toBeNull();
    expect(host.called('addRemote')).toEqual([]);
  });

  it('adds a remote whose check passes at once, and a changed field asks for a new check', async () => {
    host.answers.checkRemote = () => UNREACHED;
    const onClose = vi.fn();
    wrap(<RemoteForm onClose={onClose} />);
    fill();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Check' })));
    expect(screen.getByRole('button', { name: 'Add anyway' })).toBeTruthy();
    host.answers.checkRemote = () => WORKS;
    fireEvent.change(screen.getByLabelText('Endpoint'), { target: { value: 'http://127.0.0.1:7480' } });
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Add remote' })));
    expect(host.called('checkRemote')).toHaveLength(2);
    expect(host.called('addRemote')).toHaveLength(1);
    expect(onClose).toHaveBeenCalled();
  });
});

describe("the backup dialog's group id", () => {
  it('says what a backup into the group does: create it, add to it, or make the first snapshot of an empty one', () => {
    const note = (existing: boolean | 'empty') => {
      const { container, unmount } = render(
        <GroupIdField inputId="g" kind="folder" id="Archive" existing={existing} onChange={() => {}} />,
      );
      const text = container.querySelector('.muted')!.textContent;
      unmount();
      return text;
    };
    expect(note(false)).toBe('Creates the group host/Archive.');
    expect(note(true)).toBe('Adds a snapshot to host/Archive; unchanged files are not read again.');
    expect(note('empty')).toBe('Makes the first snapshot of host/Archive, which holds none yet.');
  });
});

describe("a group's remotes", () => {
  it('says a remote whose listing failed cannot be listed, with why, not that it is "not listed yet"', () => {
    const remote = { name: 'nowhere', endpoint: 'http://127.0.0.1:1', bucket: 'b', prefix: '' };
    store.setState({
      remotes: [remote] as never,
      remoteListings: { nowhere: { loading: false, error: { code: 'IO', message: 'connect ECONNREFUSED' } } },
    });
    const group = { type: 'host' as const, id: 'docs', path: 'host/docs', snapshotCount: 1, notes: '' };
    wrap(<GroupRemotes group={group} />);
    expect(screen.getByText('nowhere: cannot be listed (connect ECONNREFUSED)')).toBeTruthy();
    expect(screen.queryByText(/not listed yet/)).toBeNull();
  });
});

describe('a dialog keeps the keyboard inside', () => {
  function TwoSteps() {
    const [second, setSecond] = useState(false);
    return (
      <Modal title="Steps" onClose={() => {}}>
        {/* Keyed: the step's element is replaced, as a wizard's next step replaces the one before. */}
        {second ? (
          <button key="later" type="button">
            Later
          </button>
        ) : (
          <button key="next" type="button" onClick={() => setSecond(true)}>
            Next
          </button>
        )}
      </Modal>
    );
  }

  it('moves the focus to the next step when the focused step is replaced, not to the page', async () => {
    render(<TwoSteps />);
    const next = screen.getByRole('button', { name: 'Next' });
    expect(document.activeElement).toBe(next);
    await act(async () => fireEvent.click(next));
    await act(async () => new Promise((r) => setTimeout(r, 0))); // the observer's callback
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Later' }));
  });
});
