import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Datastore } from '../../core/datastore/datastore.js';
import { type AppInBrowser, openAppInBrowser, screenshotPath, watchConsole, type WebHost } from '../support/browser.js';
import { pseudoRandomBytes } from '../support/data.js';
import { cairn } from '../support/processes.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

const CHUNK = 64 * 1024;

/**
 * A new user with a disk image: back it up from the app (the file chosen in the host's file browser), see the
 * snapshot as an image (no files to browse, say so), restore it to a file from the app, compare the bytes; a
 * damaged chunk makes the restore a card that needs attention and names the byte range.
 */
describe('disk images in the app, end to end in Chromium', () => {
  let base: string;
  let storePath: string;
  let app: AppInBrowser | undefined;
  let host: WebHost;
  let page: Page;
  const bytes = Buffer.concat([pseudoRandomBytes(12 * CHUNK + 999, 'e2e-image'), Buffer.alloc(4 * CHUNK)]);
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    base = tempDir('e2e-image', storeTempRoot());
    storePath = join(base, 'store');
    mkdirSync(join(base, 'images'));
    writeFileSync(join(base, 'images', 'laptop-disk.img'), bytes);
    writeFileSync(join(base, 'images', 'readme.txt'), 'not an image');
    const init = await cairn(['init', storePath, '--chunk-size', '64K']);
    expect(init.code, init.stderr).toBe(0);
    app = await openAppInBrowser(base);
    ({ host, page } = app);
    watchConsole(page, consoleErrors);
  }, 60_000);

  afterAll(async () => {
    const code = await app?.close();
    expect(code, app?.host.output()).toBe(0);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('backs up an image chosen in the file browser, and restores it to a file byte for byte', async () => {
    await page.goto(host.url);
    await page.getByLabel('Datastore folder', { exact: true }).fill(storePath);
    await page.getByRole('button', { name: 'Open', exact: true }).click();

    await page.getByRole('button', { name: 'Back up a disk image…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Back up a disk image' });
    await dialog.getByRole('button', { name: 'Browse…' }).click();
    const picker = page.getByRole('dialog', { name: 'Disk image to back up' });
    await picker.getByLabel('Folder', { exact: true }).fill(join(base, 'images'));
    await picker.getByRole('button', { name: 'Go', exact: true }).click();
    await picker.getByRole('button', { name: /^laptop-disk\.img/ }).click();
    await picker.getByRole('button', { name: 'Choose this file' }).click();
    await expect
      .poll(() => dialog.getByLabel('Disk image file').inputValue())
      .toBe(join(base, 'images', 'laptop-disk.img'));
    await expect.poll(() => dialog.getByLabel('Backup group id').inputValue()).toBe('laptop-disk');
    await page.screenshot({ path: screenshotPath('image-1-backup-dialog') });
    await dialog.getByRole('button', { name: 'Start image backup' }).click();

    const backupCard = page.locator('[data-job-kind="backup-image"]').first();
    await backupCard.and(page.locator('[data-status="done"]')).waitFor({ timeout: 30_000 });
    expect(await backupCard.textContent()).toContain('Backed up the image laptop-disk.img');

    await page.getByRole('option', { name: /laptop-disk/ }).click(); // the store shows its overview until then
    const row = page.locator('[role="grid"] [data-snapshot^="host/laptop-disk/"]');
    await row.click();
    const actions = page.getByRole('toolbar', { name: 'Snapshot actions' });
    // An image has no files: no dead Browse button, but a restore and the reason (once the row is selected).
    await actions.getByText('A disk image has no files to browse').waitFor();
    expect(await actions.getByRole('button', { name: 'Browse' }).count()).toBe(0);
    await page.screenshot({ path: screenshotPath('image-2-snapshot-actions') });

    await actions.getByRole('button', { name: 'Restore image…' }).click();
    const restore = page.getByRole('dialog', { name: 'Restore image' });
    await restore.getByLabel('Into folder').fill(join(base, 'restored'));
    await expect.poll(() => restore.getByLabel('File name').inputValue()).toBe('laptop-disk.img');
    await page.screenshot({ path: screenshotPath('image-3-restore-dialog') });
    await restore.getByRole('button', { name: 'Restore image', exact: true }).click();
    await page.locator('[data-job-kind="restore-image"][data-status="done"]').waitFor({ timeout: 30_000 });
    expect(readFileSync(join(base, 'restored', 'laptop-disk.img')).equals(bytes)).toBe(true);

    // Again into the same file: refused in the dialog (nothing replaced) until the user says to replace it.
    await actions.getByRole('button', { name: 'Restore image…' }).click();
    await restore.getByLabel('Into folder').fill(join(base, 'restored'));
    await restore.getByRole('button', { name: 'Restore image', exact: true }).click();
    await restore.getByRole('alert').filter({ hasText: 'already exists' }).waitFor();
    await restore.getByLabel('Replace an existing file').check();
    await restore.getByRole('button', { name: 'Restore image', exact: true }).click();
    await expect
      .poll(() => page.locator('[data-job-kind="restore-image"][data-status="done"]').count(), { timeout: 30_000 })
      .toBe(2);
    expect(consoleErrors).toEqual([]);
  });

  it('a restore past a damaged chunk needs attention and names the damaged byte range', async () => {
    const store = Datastore.open(storePath);
    const [snap] = store.listSnapshots({ type: 'host', id: 'laptop-disk' });
    const digest = store.openSnapshot(snap!).openIndex('laptop-disk.img.fidx').digest(3).toString('hex');
    const file = join(storePath, '.chunks', digest.slice(0, 4), digest);
    const chunk = readFileSync(file);
    chunk[chunk.length >> 1]! ^= 0xff;
    writeFileSync(file, chunk);

    await page
      .getByRole('toolbar', { name: 'Snapshot actions' })
      .getByRole('button', { name: 'Restore image…' })
      .click();
    const restore = page.getByRole('dialog', { name: 'Restore image' });
    await restore.getByLabel('Into folder').fill(join(base, 'damaged'));
    await restore.getByRole('button', { name: 'Restore image', exact: true }).click();
    const card = page.locator('[data-job-kind="restore-image"][data-status="attention"]');
    await card.waitFor({ timeout: 30_000 });
    expect(await card.textContent()).toContain('Needs attention');
    expect(await card.getByRole('alert', { name: 'Problems found' }).textContent()).toContain(
      'bytes 196,608–262,143 (64.0 KiB)',
    );
    expect(existsSync(join(base, 'damaged', 'laptop-disk.img'))).toBe(false);
    await page.screenshot({ path: screenshotPath('image-4-damaged-restore') });
  });
});
