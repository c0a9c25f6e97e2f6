import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openSnapshotRow, shootEverySize, startWebHost, type WebHost } from '../support/browser.js';
import { cairn } from '../support/processes.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

const PASSPHRASE = 'granite ferns listen quietly';

const shoot = (page: Page, name: string) => shootEverySize(page, `keys-${name}`);

/**
 * Encryption in browser mode as a user meets it: a key made in the wizard (its paper key saved), an encrypted
 * backup with its lock badges, then a restart of the host, which forgets the unlocked key: opening the snapshot
 * asks for the passphrase, and the listing follows. The host's config folder (keys) is a temp folder.
 */
describe('encryption keys in browser mode, end to end in Chromium', () => {
  let base = '';
  let dataDir = '';
  let host: WebHost | undefined;
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let page: Page;
  let store = '';
  let source = '';
  const start = () => startWebHost(['--allow', base, '--data-dir', dataDir]);

  beforeAll(async () => {
    base = tempDir('keys-e2e', storeTempRoot());
    dataDir = join(base, 'app-data');
    store = join(base, 'store');
    source = join(base, 'Letters');
    mkdirSync(join(source, 'drafts'), { recursive: true });
    writeFileSync(join(source, 'to-ann.txt'), 'Dear Ann,\n');
    writeFileSync(join(source, 'drafts', 'to-bob.txt'), 'Dear Bob,\n');
    expect((await cairn(['init', store, '--sync', 'none'])).code).toBe(0);
    host = await start();
    ({ context, close: closeBrowser } = await launchChromium());
    page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 60_000);

  afterAll(async () => {
    await closeBrowser?.();
    await host?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('creates a key in the wizard and saves its paper key', async () => {
    await page.goto(host!.url);
    await page.getByLabel('Datastore folder', { exact: true }).fill(store);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByRole('button', { name: 'Keys', exact: true }).click();
    await page.getByText('No keys yet.').waitFor();
    await page.getByRole('button', { name: 'Create a key…' }).click();
    const wizard = page.getByRole('dialog', { name: 'Create an encryption key' });
    await wizard.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await wizard.getByLabel('Passphrase again').fill(PASSPHRASE);
    await wizard.getByLabel('Hint (optional, stored in the key file as it is)').fill('the rocks');
    await wizard.getByLabel('Passphrase strength').waitFor({ timeout: 10_000 });
    await shoot(page, 'wizard');
    await wizard.getByRole('button', { name: 'Create key' }).click();
    const paper = page.getByRole('dialog', { name: 'Save the paper key now' });
    await paper.waitFor({ timeout: 20_000 });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      paper.getByRole('button', { name: 'Save the paper key…' }).click(),
    ]);
    const saved = join(base, 'paper-key.html');
    await download.saveAs(saved);
    expect(download.suggestedFilename()).toMatch(/^cairn-paper-key-[0-9a-f]{16}\.html$/);
    expect(readFileSync(saved, 'utf8')).toContain('-----BEGIN PROXMOX BACKUP KEY-----');
    const line = page.getByRole('list', { name: 'Encryption keys' }).getByRole('listitem');
    await line.getByText('unlocked', { exact: true }).waitFor();
    expect(await line.textContent()).toContain('default');
  }, 60_000);

  it('backs up encrypted and shows the lock badge on the group and the snapshot', async () => {
    await page.getByRole('button', { name: 'Keys', exact: true }).click(); // back to the store
    await page.getByRole('button', { name: 'Back up a folder…' }).click();
    await page.getByLabel('Folder to back up').fill(source);
    await page.getByRole('checkbox', { name: 'Encrypt this backup' }).check();
    await expect
      .poll(() => page.getByLabel('Key', { exact: true }).inputValue())
      .toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/);
    await page.getByRole('button', { name: 'Start backup' }).click();
    await page.locator('[data-job-kind="backup"][data-status="done"]').waitFor({ timeout: 30_000 });
    const group = page.getByRole('option', { name: /Letters/ });
    await group.getByTitle(/^Encrypted with the key /).waitFor();
    await group.click();
    const row = page.locator('[role="grid"] [data-snapshot^="host/Letters/"]');
    await row
      .getByTitle(/^Encrypted with the key /)
      .first()
      .waitFor();
    // Settled: the listing and the store's size recounted after the backup.
    await page.getByText('1 snapshot', { exact: true }).waitFor();
    await page
      .locator('.store-size .figure')
      .getByText(/^Store size: .* in \d+ chunks?$/)
      .waitFor({ timeout: 15_000 });
    await shoot(page, 'list');
  }, 60_000);

  it('after a restart of the host the key is locked: browsing asks for it, then lists the folder', async () => {
    expect(await host!.stop()).toBe(0);
    host = await start();
    await page
      .getByRole('alert')
      .filter({ hasText: 'Connection to Cairn lost' })
      .waitFor({ state: 'detached', timeout: 20_000 });
    const row = page.locator('[role="grid"] [data-snapshot^="host/Letters/"]');
    await row.waitFor();
    await row.dblclick();
    const prompt = page.getByRole('dialog', { name: 'Unlock the encryption key' });
    await prompt.waitFor({ timeout: 10_000 });
    await prompt.getByText('Hint: the rocks').waitFor();
    expect(await prompt.textContent()).toContain('Not remembered: keys can be remembered only by the desktop app');
    await prompt.getByLabel('Passphrase').fill('not the passphrase');
    await prompt.getByRole('button', { name: 'Unlock' }).click();
    await prompt.locator('[data-code="WRONG_PASSPHRASE"]').waitFor({ timeout: 10_000 });
    await prompt.getByLabel('Passphrase').fill('');
    await shoot(page, 'unlock');
    await prompt.getByLabel('Passphrase').fill(PASSPHRASE);
    await prompt.getByRole('button', { name: 'Unlock' }).click();
    await prompt.waitFor({ state: 'detached', timeout: 10_000 });
    if (!(await page.getByRole('button', { name: '← Snapshots' }).isVisible())) await openSnapshotRow(page, row);
    await page.getByRole('treeitem', { name: /to-ann\.txt/ }).waitFor({ timeout: 10_000 });
    await page.getByRole('treeitem', { name: /drafts/ }).waitFor();
    // A download streams the file's chunks through the host, decrypted with the unlocked key.
    await page.locator('[role="treeitem"][data-path="to-ann.txt"]').click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download file' }).click(),
    ]);
    const saved = join(base, 'downloaded.txt');
    await download.saveAs(saved);
    expect(readFileSync(saved, 'utf8')).toBe('Dear Ann,\n');
  }, 90_000);
});
