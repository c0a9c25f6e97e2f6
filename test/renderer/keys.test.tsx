// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyRing, KeyRow } from '../../contract/keys.js';
import type { GroupRow, SnapshotRow } from '../../contract/model.js';
import { createClient } from '../../renderer/src/api/client.js';
import { App } from '../../renderer/src/components/App.js';
import { SnapshotLine } from '../../renderer/src/components/SnapshotLine.js';
import { createAppStore, type AppStore } from '../../renderer/src/state/app-store.js';
import { AppStoreContext } from '../../renderer/src/state/use-app.js';
import { fail, FakeTransport } from '../support/fake-transport.js';
import { WEB_APP_INFO } from '../support/app-info.js';

const FP = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').slice(-2)).join(':');
const SHORT = FP.split(':').slice(0, 8).join(':');
const STORE = {
  path: '/home/ann/store',
  chunkSize: 4 << 20,
  compression: 'zstd' as const,
  syncLevel: 'x',
  created: 'x',
  groups: 1,
};
const GROUP: GroupRow = {
  type: 'host',
  id: 'docs',
  path: 'host/docs',
  snapshotCount: 1,
  lastBackup: 1_800_000_000,
  notes: '',
  encrypted: true,
  keyFingerprint: FP,
};
const SNAPSHOT: SnapshotRow = {
  type: 'host',
  id: 'docs',
  time: 1_800_000_000,
  path: 'host/docs/2027-01-15T08:00:00Z',
  finished: true,
  protected: false,
  kind: 'folder',
  archives: [],
  encrypted: true,
  keyFingerprint: FP,
};
const KEY: KeyRow = {
  path: '/home/ann/.config/cairn/keys/default.json',
  fingerprint: FP,
  short: SHORT,
  kdf: 'scrypt',
  created: 1_800_000_000,
  hint: 'the cat',
  unlocked: false,
  remembered: false,
  isDefault: true,
};

let host: FakeTransport;
let store: AppStore;
let ring: KeyRing;

beforeEach(async () => {
  HTMLDialogElement.prototype.showModal ??= function showModal(this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
  HTMLDialogElement.prototype.close ??= function close(this: HTMLDialogElement) {
    this.removeAttribute('open');
  };
  ring = {
    keys: [KEY],
    defaultPath: KEY.path,
    remember: { available: false, why: 'only the desktop app can remember keys' },
  };
  host = new FakeTransport();
  host.answers.getAppInfo = () => WEB_APP_INFO;
  host.answers.recentStores = () => [];
  host.answers.listJobs = () => [];
  host.answers.listPlans = () => [];
  host.answers.schedulerInfo = () => fail('NOT_AVAILABLE', 'no plans');
  host.answers.openStore = () => STORE;
  host.answers.storeDashboard = () => ({ sizeHistory: [], activity: [] });
  host.answers.listGroups = () => [GROUP];
  host.answers.listSnapshots = () => [SNAPSHOT];
  host.answers.gcStatus = () => ({ kind: 'never' });
  host.answers.listKeys = () => ring;
  store = createAppStore(createClient(host));
  await store.getState().init();
});
afterEach(cleanup);

async function showApp() {
  render(
    <AppStoreContext.Provider value={store}>
      <App />
    </AppStoreContext.Provider>,
  );
  await act(async () => {
    await store.getState().openStore(STORE.path);
    await store.getState().openGroup(GROUP.path);
  });
}

describe('encryption keys in the app', () => {
  it('shows lock badges with the short fingerprint on encrypted groups and snapshots', async () => {
    await showApp();
    const groups = screen.getByRole('listbox', { name: 'Backup groups' });
    expect(within(groups).getByText(SHORT)).toBeTruthy();
    expect(within(groups).getByTitle(`Encrypted with the key ${FP}`)).toBeTruthy();
    cleanup();
    const noop = async () => {};
    render(
      <SnapshotLine
        row={SNAPSHOT}
        index={0}
        top={0}
        selected={false}
        tabbable
        onBrowse={noop}
        onProtect={noop}
        onSelect={noop}
        onKey={() => false}
      />,
    );
    expect(screen.getByTitle(`Encrypted with the key ${FP}`).textContent).toContain(SHORT);
  });

  it('an action answering KEY_REQUIRED opens the unlock prompt; a wrong passphrase stays; the right one retries', async () => {
    let unlocked = false;
    host.answers.browseSnapshot = () => {
      if (!unlocked) {
        try {
          fail('KEY_REQUIRED', 'host/docs is encrypted');
        } catch (err) {
          (err as { info: { keyFingerprint?: string } }).info.keyFingerprint = FP;
          throw err;
        }
      }
      return { entries: [], offset: 0, total: 0 };
    };
    host.answers.unlockKey = (req: { passphrase?: string }) => {
      if (req.passphrase !== 'meow meow') fail('WRONG_PASSPHRASE', 'wrong passphrase (passphrase hint: the cat)');
      unlocked = true;
      return { ...KEY, unlocked: true };
    };
    await showApp();
    let browse!: Promise<unknown>;
    act(() => {
      browse = store.getState().client.browseSnapshot({ store: STORE.path, snapshot: SNAPSHOT, path: '' });
    });
    const dialog = await screen.findByRole('dialog', { name: 'Unlock the encryption key' });
    expect(within(dialog).getByText(SHORT)).toBeTruthy();
    expect(within(dialog).getByText('Hint: the cat')).toBeTruthy();
    // Browser mode: no "remember", and why.
    expect(within(dialog).queryByRole('checkbox')).toBeNull();
    expect(within(dialog).getByText(/only the desktop app can remember keys/)).toBeTruthy();
    const field = within(dialog).getByLabelText('Passphrase');
    fireEvent.change(field, { target: { value: 'woof woof' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Unlock' }));
    await waitFor(() => expect(within(dialog).getByRole('alert').getAttribute('data-code')).toBe('WRONG_PASSPHRASE'));
    fireEvent.change(field, { target: { value: 'meow meow' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Unlock' }));
    await expect(browse).resolves.toEqual({ entries: [], offset: 0, total: 0 });
    expect(host.called('browseSnapshot').length).toBe(2);
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Unlock the encryption key' })).toBeNull());
  });

  it('cancelling the prompt fails the action with KEY_REQUIRED', async () => {
    host.answers.browseSnapshot = () => fail('KEY_REQUIRED', 'encrypted');
    await showApp();
    let browse!: Promise<unknown>;
    act(() => {
      browse = store.getState().client.browseSnapshot({ store: STORE.path, snapshot: SNAPSHOT, path: '' });
    });
    const dialog = await screen.findByRole('dialog', { name: 'Unlock the encryption key' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await expect(browse).rejects.toMatchObject({ code: 'KEY_REQUIRED' });
  });

  it('offers "remember on this computer" where the host can seal keys, and sends it', async () => {
    ring = { ...ring, remember: { available: true } };
    host.answers.unlockKey = () => ({ ...KEY, unlocked: true, remembered: true });
    await store.getState().refreshKeys();
    await showApp();
    act(() => void store.getState().askForKey(FP));
    const dialog = await screen.findByRole('dialog', { name: 'Unlock the encryption key' });
    fireEvent.change(within(dialog).getByLabelText('Passphrase'), { target: { value: 'meow meow' } });
    fireEvent.click(within(dialog).getByRole('checkbox', { name: /Remember on this computer/ }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Unlock' }));
    await waitFor(() =>
      expect(host.called('unlockKey')).toEqual([{ fingerprint: FP, passphrase: 'meow meow', remember: true }]),
    );
  });

  it('the backup dialog of an encrypted group starts encrypted with its key', async () => {
    host.answers.checkBackupSource = () => ({ matches: true });
    host.answers.startJob = (spec: unknown) => ({
      id: 'j',
      kind: 'backup',
      title: 't',
      store: STORE.path,
      status: 'running',
      startedAt: 0,
      progress: { phase: 'x' },
      log: [],
      spec,
    });
    await showApp();
    act(() => store.getState().openBackupDialog('/home/ann/docs'));
    const dialog = await screen.findByRole('dialog', { name: 'Back up a folder' });
    const box = within(dialog).getByRole('checkbox', { name: 'Encrypt this backup' }) as HTMLInputElement;
    expect(box.checked).toBe(true);
    expect((within(dialog).getByLabelText('Key') as HTMLSelectElement).value).toBe(FP);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Start backup' }));
    await waitFor(() =>
      expect(host.called('startJob')[0]).toMatchObject({ kind: 'backup', id: 'docs', encrypt: { keyFingerprint: FP } }),
    );
  });

  it('the key wizard checks both passphrases, rates them, creates the key and offers its paper key', async () => {
    ring = { ...ring, keys: [] };
    host.answers.createKey = () => ({ ...KEY, unlocked: true });
    await store.getState().refreshKeys();
    await showApp();
    let created!: Promise<KeyRow | undefined>;
    act(() => {
      created = store.getState().openKeyWizard();
    });
    const dialog = await screen.findByRole('dialog', { name: 'Create an encryption key' });
    const create = within(dialog).getByRole('button', { name: 'Create key' }) as HTMLButtonElement;
    fireEvent.change(within(dialog).getByLabelText('Passphrase'), { target: { value: 'tiger lily wanders north' } });
    fireEvent.change(within(dialog).getByLabelText('Passphrase again'), { target: { value: 'tiger lily' } });
    expect(within(dialog).getByText('The two passphrases differ.')).toBeTruthy();
    expect(create.disabled).toBe(true);
    fireEvent.change(within(dialog).getByLabelText('Passphrase again'), {
      target: { value: 'tiger lily wanders north' },
    });
    await waitFor(() => expect(within(dialog).getByLabelText('Passphrase strength')).toBeTruthy(), { timeout: 5000 });
    expect(create.disabled).toBe(false);
    fireEvent.click(create);
    await screen.findByRole('dialog', { name: 'Save the paper key now' });
    expect(host.called('createKey')).toEqual([{ passphrase: 'tiger lily wanders north' }]);
    fireEvent.click(screen.getByRole('button', { name: 'Later' }));
    await expect(created).resolves.toMatchObject({ fingerprint: FP });
  });

  it('the keys view lists keys and locks an unlocked one', async () => {
    ring = { ...ring, keys: [{ ...KEY, unlocked: true }] };
    host.answers.lockKey = () => ({ ...KEY, unlocked: false });
    await store.getState().refreshKeys();
    await showApp();
    fireEvent.click(screen.getByRole('button', { name: 'Keys' }));
    const list = await screen.findByRole('list', { name: 'Encryption keys' });
    expect(within(list).getByText('unlocked')).toBeTruthy();
    fireEvent.click(within(list).getByRole('button', { name: 'Lock' }));
    await waitFor(() => expect(host.called('lockKey')).toEqual([{ fingerprint: FP, forget: false }]));
  });

  it('the plan editor encrypts a plan with a chosen key, by fingerprint and key file', async () => {
    ring = { ...ring, keys: [{ ...KEY, unlocked: true }] };
    await store.getState().refreshKeys();
    host.answers.previewSchedule = () => ({ text: 'daily at 12:00', next: [] });
    host.answers.savePlan = ({ input }: { input: unknown }) => ({ plan: input, status: {}, scheduleText: '' });
    await showApp();
    act(() => store.getState().editPlan({ start: { name: 'Docs', source: '/home/ann/docs', store: STORE.path } }));
    const dialog = await screen.findByRole('dialog', { name: 'New backup plan' });
    fireEvent.click(within(dialog).getByLabelText('Encrypt its backups'));
    expect((within(dialog).getByLabelText('Key') as HTMLSelectElement).value).toBe(FP);
    await act(async () => fireEvent.click(within(dialog).getByRole('button', { name: 'Create plan' })));
    await waitFor(() =>
      expect(host.called('savePlan')[0]).toMatchObject({
        input: { name: 'Docs', encryption: { keyFingerprint: FP, keyFile: KEY.path } },
      }),
    );
  });

  it('adds a key file picked with the native dialog; a refusal shows in the keys view', async () => {
    store.setState({ info: { ...WEB_APP_INFO, host: 'electron', nativeDialogs: true } });
    host.answers.pickFile = () => '/home/ann/old.json';
    host.answers.addKey = ({ path }: { path: string }) => {
      if (path !== '/home/ann/old.json') fail('INTERNAL', 'unexpected');
      ring = { ...ring, keys: [...ring.keys, { ...KEY, path, isDefault: false }] };
      return ring.keys.at(-1)!;
    };
    await store.getState().addKeyFile();
    expect(store.getState().keyRing?.keys.map((k) => k.path)).toEqual([KEY.path, '/home/ann/old.json']);
    host.answers.addKey = () => fail('CORRUPT', '/home/ann/old.json is not a key file');
    await store.getState().addKeyFile();
    expect(store.getState().keysError).toMatchObject({ code: 'CORRUPT' });
  });

  it('forgets a remembered key on this computer, keeping it unlocked', async () => {
    ring = { ...ring, keys: [{ ...KEY, unlocked: true, remembered: true }] };
    host.answers.forgetRememberedKey = () => ({ ...KEY, unlocked: true, remembered: false });
    await store.getState().refreshKeys();
    await showApp();
    fireEvent.click(screen.getByRole('button', { name: 'Keys' }));
    const list = await screen.findByRole('list', { name: 'Encryption keys' });
    fireEvent.click(within(list).getByRole('button', { name: 'Forget on this computer' }));
    await waitFor(() => expect(host.called('forgetRememberedKey')).toEqual([{ fingerprint: FP }]));
    expect(host.called('lockKey')).toEqual([]);
  });
});
