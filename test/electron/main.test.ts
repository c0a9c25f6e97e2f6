import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTION_NAMES } from '../../contract/actions.js';
import type { Result } from '../../contract/errors.js';
import type { JobState } from '../../contract/jobs.js';
import type { PlanView, SchedulerInfo } from '../../contract/plans.js';
import { SchedulerService } from '../../core/scheduler/scheduler-service.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { startCairnApp } from '../../electron/cairn-app.js';
import { electronBinary } from '../../electron/launch.js';
import { APP_ENTRY } from '../../electron/security.js';
import { pseudoRandomBytes } from '../support/data.js';
import {
  app,
  dialog,
  FakeBrowserWindow,
  FakeNotification,
  FakeTray,
  ipcHandlers,
  ipcMain,
  Menu,
  menuItem,
  menuLabels,
  powerMonitor,
  powerSaveBlocker,
  protocol,
  session,
  userDataPath,
  type FakeMenuItem,
} from '../support/electron-mock.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

vi.mock('electron', async () => (await import('../support/electron-mock.js')).electronMock);

const TRUSTED = { senderFrame: { url: 'app://cairn/index.html', parent: null } };

async function invoke<T>(action: string, payload: unknown, event: unknown = TRUSTED): Promise<Result<T>> {
  const handler = ipcHandlers.get(`cairn:${action}`);
  if (!handler) throw new Error(`no handler for ${action}`);
  return (await handler(event, payload)) as Result<T>;
}

async function value<T>(action: string, payload: unknown): Promise<T> {
  const r = await invoke<T>(action, payload);
  if (!r.ok) throw new Error(`${action}: ${r.error.code} ${r.error.message}`);
  return r.value;
}

function sends(win: FakeBrowserWindow, channel: string, jobId: string): { at: number; job: JobState }[] {
  return win.webContents.send.mock.calls
    .map((call, i) => ({
      channel: call[0] as string,
      job: call[1] as JobState,
      at: win.webContents.send.mock.invocationCallOrder[i]!,
    }))
    .filter((c) => c.channel === channel && c.job.id === jobId)
    .map((c) => ({ at: c.at, job: c.job }));
}

describe('a second instance', () => {
  it('quits at once, leaving the first instance its store', () => {
    app.requestSingleInstanceLock.mockReturnValueOnce(false);
    startCairnApp();
    expect(app.quit).toHaveBeenCalledTimes(1);
    expect(FakeBrowserWindow.instances).toHaveLength(0);
    expect(protocol.registerSchemesAsPrivileged).not.toHaveBeenCalled();
    app.quit.mockClear();
  });
});

describe('the Electron main process (mocked electron, real host service and datastore)', () => {
  let base: string;
  let win: FakeBrowserWindow;
  let storePath: string;
  let source: string;

  beforeAll(async () => {
    base = tempDir('electron-test', storeTempRoot());
    process.env.CAIRN_ALLOWED_ROOTS = base;
    process.env.CAIRN_CONFIG_DIR = join(base, 'config');
    process.env.XDG_CONFIG_HOME = join(base, 'xdg'); // where "Start at login" writes its autostart entry
    storePath = join(base, 'store');
    source = join(base, 'photos');
    mkdirSync(source);
    for (let i = 0; i < 24; i++)
      writeFileSync(join(source, `p${i}.raw`), pseudoRandomBytes(2 * 1024 * 1024, `photo${i}`));
    await Datastore.create(storePath, { syncLevel: 'none' });
    startCairnApp();
    await app.whenReady();
    await new Promise((resolve) => setImmediate(resolve));
    win = FakeBrowserWindow.instances[0]!;
  });
  afterAll(() => {
    delete process.env.CAIRN_ALLOWED_ROOTS;
    delete process.env.CAIRN_CONFIG_DIR;
    delete process.env.XDG_CONFIG_HOME;
    rmSync(base, { recursive: true, force: true });
    rmSync(userDataPath(), { recursive: true, force: true });
  });

  it('takes the single-instance lock, registers app:// as privileged, and denies every permission', () => {
    expect(app.requestSingleInstanceLock).toHaveBeenCalled();
    expect(protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
    ]);
    expect(protocol.handle).toHaveBeenCalledWith('app', expect.any(Function));
    const request = session.defaultSession.setPermissionRequestHandler.mock.calls[0]![0] as (
      w: unknown,
      p: string,
      cb: (ok: boolean) => void,
    ) => void;
    const callback = vi.fn();
    request(null, 'media', callback);
    expect(callback).toHaveBeenCalledWith(false);
    const check = session.defaultSession.setPermissionCheckHandler.mock.calls[0]![0] as () => boolean;
    expect(check()).toBe(false);
    expect(Menu.setApplicationMenu).toHaveBeenCalled();
  });

  it('opens one sandboxed, context-isolated window on app://, with the bundled preload', () => {
    expect(FakeBrowserWindow.instances).toHaveLength(1);
    const prefs = win.options.webPreferences;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
    });
    expect(String(prefs.preload)).toMatch(/dist[\\/]electron[\\/]preload\.cjs$/);
    expect(existsSync(String(prefs.preload)), 'npm run build makes the preload bundle').toBe(true);
    expect(win.loadURL).toHaveBeenCalledWith(APP_ENTRY);
  });

  it('registers a handler for every action of the contract, and only those', () => {
    const channels = ipcMain.handle.mock.calls.map((c) => c[0]);
    expect([...channels].sort()).toEqual(ACTION_NAMES.map((a) => `cairn:${a}`).sort());
  });

  it('refuses calls from foreign pages and subframes, and bad payloads', async () => {
    const foreign = await invoke('app.info', {}, { senderFrame: { url: 'https://evil.example/', parent: null } });
    expect(foreign).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const subframe = await invoke('app.info', {}, { senderFrame: { url: 'app://cairn/index.html', parent: {} } });
    expect(subframe).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const lookalike = await invoke(
      'app.info',
      {},
      { senderFrame: { url: 'app://cairn.evil/index.html', parent: null } },
    );
    expect(lookalike.ok).toBe(false);
    expect(await invoke('app.info', {}, { senderFrame: null })).toMatchObject({ ok: false });
    expect(await invoke('store.open', { path: ['not', 'a', 'string'] })).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST' },
    });
    expect(await invoke('jobs.start', { kind: 'format-disk' })).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST' },
    });
    expect(await invoke('store.open', { path: '/etc' })).toMatchObject({
      ok: false,
      error: { code: 'PATH_NOT_ALLOWED' },
    });
    const info = await value<{ host: string; nativeDialogs: boolean; dropPaths: boolean }>('app.info', {});
    expect(info).toMatchObject({ host: 'electron', nativeDialogs: true, dropPaths: true });
  });

  it('serves the renderer from app:// with the CSP, and nothing outside it', async () => {
    const handler = protocol.handle.mock.calls[0]![1] as (r: Request) => Promise<Response>;
    const index = await handler(new Request('app://cairn/index.html'));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await index.text()).toContain('<div id="root">');
    expect((await handler(new Request('app://cairn/%2e%2e/%2e%2e/package.json'))).status).toBe(404);
    expect((await handler(new Request('app://cairn/..%2f..%2fpackage.json'))).status).toBe(404);
    expect((await handler(new Request('app://cairn/../../package.json'))).status).toBe(404);
    expect((await handler(new Request('app://other/index.html'))).status).toBe(404);
    expect((await handler(new Request('app://cairn/index.html', { method: 'POST', body: 'x' }))).status).toBe(405);
  });

  it('keeps every web contents on the app: no navigation away, no new windows, no webviews', () => {
    const contents = new (win.webContents.constructor as new () => FakeBrowserWindow['webContents'])();
    app.emit('web-contents-created', {}, contents);
    const away = { url: 'https://evil.example/', preventDefault: vi.fn() };
    contents.emit('will-navigate', away);
    expect(away.preventDefault).toHaveBeenCalled();
    const inside = { url: 'app://cairn/index.html', preventDefault: vi.fn() };
    contents.emit('will-navigate', inside);
    expect(inside.preventDefault).not.toHaveBeenCalled();
    const redirect = { url: 'http://127.0.0.1:9/', preventDefault: vi.fn() };
    contents.emit('will-redirect', redirect);
    expect(redirect.preventDefault).toHaveBeenCalled();
    const webview = { preventDefault: vi.fn() };
    contents.emit('will-attach-webview', webview);
    expect(webview.preventDefault).toHaveBeenCalled();
    expect(contents.windowOpenHandler?.()).toEqual({ action: 'deny' });
  });

  it('runs a backup off the main thread and pushes its progress throttled, the final state once', async () => {
    const started = await value<JobState>('jobs.start', {
      kind: 'backup',
      store: storePath,
      source,
      id: 'photos',
      excludes: [],
    });
    // The main thread stays free while the job runs: timers fire on time.
    let maxLag = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last - 10);
      last = now;
    }, 10);
    const times: number[] = [];
    const original = win.webContents.send.getMockImplementation();
    win.webContents.send.mockImplementation((channel: string, job: JobState) => {
      if (channel === 'cairn-event:job.progress' && job.id === started.id) times.push(performance.now());
    });
    const deadline = Date.now() + 60_000;
    while (!sends(win, 'cairn-event:job.done', started.id).length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    clearInterval(ticker);
    win.webContents.send.mockImplementation(original ?? (() => {}));
    const done = sends(win, 'cairn-event:job.done', started.id);
    expect(done).toHaveLength(1);
    expect(done[0]!.job.status, done[0]!.job.error?.message).toBe('done');
    expect(done[0]!.job.result).toMatchObject({ kind: 'backup', files: 24 });
    expect(times.length).toBeGreaterThan(1);
    for (let i = 2; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(90);
    expect(maxLag).toBeLessThan(200);
    const changed = win.webContents.send.mock.calls.filter((c) => c[0] === 'cairn-event:store.changed');
    expect(changed.at(-1)?.[1]).toEqual({ store: storePath });
  });

  it('held the power blocker while the backup ran, and released it', () => {
    expect(powerSaveBlocker.start).toHaveBeenCalledWith('prevent-app-suspension');
    const id = powerSaveBlocker.start.mock.results.at(-1)!.value as number;
    expect(powerSaveBlocker.stop).toHaveBeenLastCalledWith(id);
  });

  it('runs the plans: the scheduler here, the tray lists them, its "Back up now" runs one, a failure is a notification', async () => {
    expect(await value<SchedulerInfo>('scheduler.info', {})).toEqual({
      role: 'active',
      configDir: join(base, 'config'),
    });
    await value<PlanView>('plans.save', {
      input: { name: 'Gone', sources: [{ kind: 'folder', path: join(base, 'gone') }], store: storePath },
    });
    const tray = FakeTray.instances[0]!;
    expect(tray.image.isEmpty(), 'the packaged icon exists').toBe(false);
    await vi.waitFor(() => expect(menuLabels(tray.menu())).toContainEqual(expect.stringMatching(/^Gone: /)));
    menuItem(menuItem(tray.menu(), /^Gone: /).submenu!, 'Back up now').click!({ checked: false });
    await vi.waitFor(() => expect(FakeNotification.instances).toHaveLength(1), { timeout: 20_000 });
    const [notification] = FakeNotification.instances;
    expect(notification!.options.title).toBe('Backup "Gone" failed');
    expect(notification!.show).toHaveBeenCalled();
    await vi.waitFor(() => expect(tray.iconPath()).toMatch(/tray-attention\.png$/), { timeout: 5_000 });
    expect(menuLabels(tray.menu())[0]).toBe('“Gone” failed');
    win.focus.mockClear();
    notification!.emit('click');
    expect(win.focus).toHaveBeenCalled();
  });

  it('wakes the scheduler when the computer resumes or changes power source', () => {
    const wake = vi.spyOn(SchedulerService.prototype, 'wake');
    powerMonitor.emit('resume');
    powerMonitor.emit('on-ac');
    expect(wake).toHaveBeenCalledTimes(2);
    wake.mockRestore();
  });

  it('keeps running in the tray when the window closes (by default, as there are plans), unless switched off', () => {
    app.quit.mockClear();
    app.emit('window-all-closed');
    expect(app.quit).not.toHaveBeenCalled();
    const menu = () => Menu.setApplicationMenu.mock.lastCall![0] as unknown as FakeMenuItem[];
    const keep = () => menuItem(menu(), 'Keep running in the tray when the window is closed');
    expect(keep().checked).toBe(true);
    keep().click!({ checked: false });
    expect(keep().checked).toBe(false);
    expect(JSON.parse(readFileSync(join(userDataPath(), 'app-settings.json'), 'utf8'))).toEqual({
      version: 1,
      keepInTray: false,
    });
    app.emit('window-all-closed');
    expect(app.quit).toHaveBeenCalledTimes(1);
    keep().click!({ checked: true });
    app.quit.mockClear();
  });

  it('"Start Cairn at login" from the app menu writes the autostart entry, and removes it', () => {
    const menu = () => Menu.setApplicationMenu.mock.lastCall![0] as unknown as FakeMenuItem[];
    const login = () => menuItem(menu(), 'Start Cairn at login');
    const entry = join(base, 'xdg', 'autostart', 'cairn.desktop');
    expect(login().checked).toBe(false);
    login().click!({ checked: true });
    expect(login().checked).toBe(true);
    expect(readFileSync(entry, 'utf8')).toMatch(/^Exec=.+ --hidden$/m);
    login().click!({ checked: false });
    expect(existsSync(entry)).toBe(false);
  });

  it('picks folders and saves a file from a snapshot through the native dialogs', async () => {
    dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [source] });
    expect(await value('dialog.pick-folder', { title: 'Folder to back up' })).toBe(source);
    expect(dialog.showOpenDialog).toHaveBeenLastCalledWith(
      win,
      expect.objectContaining({ title: 'Folder to back up', properties: ['openDirectory', 'createDirectory'] }),
    );
    dialog.showOpenDialog.mockResolvedValueOnce({ canceled: true, filePaths: [] });
    expect(await value('dialog.pick-folder', { title: 'x' })).toBeNull();
    // A folder picked outside the allowed places is still refused.
    dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: ['/etc'] });
    expect(await invoke('dialog.pick-folder', { title: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'PATH_NOT_ALLOWED' },
    });

    const [snap] = Datastore.open(storePath).listSnapshots({ type: 'host', id: 'photos' });
    const target = join(base, 'saved-p3.raw');
    dialog.showSaveDialog.mockResolvedValueOnce({ canceled: false, filePath: target });
    const job = await value<JobState>('dialog.save-file', {
      store: storePath,
      snapshot: { type: 'host', id: 'photos', time: snap!.time },
      path: 'p3.raw',
    });
    expect(dialog.showSaveDialog).toHaveBeenLastCalledWith(
      win,
      expect.objectContaining({ defaultPath: expect.stringMatching(/p3\.raw$/) }),
    );
    await vi.waitFor(() => expect(sends(win, 'cairn-event:job.done', job.id)).toHaveLength(1), { timeout: 20_000 });
    expect(readFileSync(target).equals(readFileSync(join(source, 'p3.raw')))).toBe(true);
    dialog.showSaveDialog.mockResolvedValueOnce({ canceled: true, filePath: '' });
    expect(
      await value('dialog.save-file', {
        store: storePath,
        snapshot: { type: 'host', id: 'photos', time: snap!.time },
        path: 'p3.raw',
      }),
    ).toBeNull();
  });

  it('asks before quitting during a job, then cancels it cleanly and quits', async () => {
    const big = join(base, 'big');
    mkdirSync(big);
    for (let i = 0; i < 160; i++) writeFileSync(join(big, `f${i}.bin`), pseudoRandomBytes(1024 * 1024, `big${i}`));
    const job = await value<JobState>('jobs.start', {
      kind: 'backup',
      store: storePath,
      source: big,
      id: 'photos-again',
      excludes: [],
    });
    // "Keep running": nothing happens.
    const first = { preventDefault: vi.fn() };
    app.emit('before-quit', first);
    expect(first.preventDefault).toHaveBeenCalled();
    await vi.waitFor(() => expect(dialog.showMessageBox).toHaveBeenCalledTimes(1));
    expect(app.quit).not.toHaveBeenCalled();
    // "Cancel jobs and quit".
    dialog.showMessageBox.mockResolvedValueOnce({ response: 0 });
    const second = { preventDefault: vi.fn() };
    app.emit('before-quit', second);
    expect(second.preventDefault).toHaveBeenCalled();
    await vi.waitFor(() => expect(app.quit).toHaveBeenCalledTimes(1), { timeout: 30_000 });
    const jobs = await value<JobState[]>('jobs.list', {});
    const final = jobs.find((j) => j.id === job.id)!;
    expect(final.status).toBe('cancelled');
    expect(Datastore.open(storePath).listSnapshots({ type: 'host', id: 'photos-again' })).toEqual([]);
    // Once the jobs are cancelled, quitting goes through.
    const third = { preventDefault: vi.fn() };
    app.emit('before-quit', third);
    expect(third.preventDefault).not.toHaveBeenCalled();
  });
});

describe('npm start', () => {
  it('finds the Electron binary the way the electron package does, without loading it', () => {
    const root = tempDir('launch', storeTempRoot());
    try {
      const pkg = join(root, 'node_modules', 'electron');
      mkdirSync(pkg, { recursive: true });
      expect(electronBinary(root, {})).toBeUndefined();
      writeFileSync(join(pkg, 'path.txt'), 'electron');
      expect(electronBinary(root, {}), 'path.txt without the binary: not installed').toBeUndefined();
      mkdirSync(join(pkg, 'dist'));
      writeFileSync(join(pkg, 'dist', 'electron'), '');
      expect(electronBinary(root, {})).toBe(join(pkg, 'dist', 'electron'));
      expect(electronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: join(root, 'elsewhere') })).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
