import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { _electron as electron, type ElectronApplication } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { electronBinary } from '../../electron/launch.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const binary = electronBinary(ROOT);

/**
 * The real desktop app, driven by Playwright's Electron support. Electron's binary cannot be downloaded on
 * this project's machines, so this runs only where it is installed (`npx install-electron`); browser mode's
 * end-to-end test covers the same UI everywhere.
 */
describe.skipIf(binary === undefined)('the desktop app in Electron', () => {
  let base: string;
  let app: ElectronApplication;

  beforeAll(async () => {
    base = tempDir('electron-e2e', storeTempRoot());
    mkdirSync(join(base, 'Documents'));
    writeFileSync(join(base, 'Documents', 'notes.txt'), 'remember the milk\n');
    app = await electron.launch({
      executablePath: binary!,
      args: [ROOT],
      env: { ...process.env, CAIRN_ALLOWED_ROOTS: base, CAIRN_USER_DATA: join(base, 'user-data') },
    });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('shows the app from app:// with only the named bridge, no Node', async () => {
    const window = await app.firstWindow();
    await window.getByRole('heading', { name: 'Create a datastore' }).waitFor();
    expect(window.url()).toBe('app://cairn/index.html');
    const exposed = await window.evaluate(() => ({
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
      api: Object.keys((window as unknown as { cairn: object }).cairn).sort(),
    }));
    expect(exposed.require).toBe('undefined');
    expect(exposed.process).toBe('undefined');
    expect(exposed.api).toContain('openStore');
    expect(exposed.api).not.toContain('invoke');
    // Main's own view: the one window, on the app's origin.
    const urls = await app.evaluate(({ BrowserWindow }) =>
      BrowserWindow.getAllWindows().map((w) => w.webContents.getURL()),
    );
    expect(urls).toEqual(['app://cairn/index.html']);
  });

  it('creates a store and backs up a folder by path', async () => {
    const window = await app.firstWindow();
    await window.getByLabel('New datastore folder (empty or new)').fill(join(base, 'store'));
    await window.getByRole('button', { name: 'Create', exact: true }).click();
    await window.locator('.store-info', { hasText: join(base, 'store') }).waitFor({ timeout: 60_000 });
    await window.getByRole('button', { name: 'Back up a folder…' }).click();
    await window.getByLabel('Folder to back up').fill(join(base, 'Documents'));
    await window.getByRole('button', { name: 'Start backup' }).click();
    await window.locator('[data-job-kind="backup"][data-status="done"]').waitFor({ timeout: 60_000 });
    await window.locator('[role="grid"] [data-snapshot^="host/Documents/"]').waitFor();
  }, 120_000);
});
