import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptKey, readKeyFile } from '../../core/crypto/key-file.js';
import { launchChromium, openSnapshotRow, screenshotPath, startWebHost, type WebHost } from '../support/browser.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

const PASSPHRASE = 'granite kettle orbit 1987 tulip';
const SIZES = [
  { name: '1024', width: 1024, height: 700 },
  { name: '1920', width: 1920, height: 1080 },
] as const;

/** The page at both sizes, light and dark, as `<name>-<size>[-dark].png`; back to light at 1360×820 after. */
async function shootAll(page: Page, name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const size of SIZES) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await page.waitForTimeout(150); // layout and the dialog's own transitions settle
      const dark = scheme === 'dark' ? '-dark' : '';
      await page.screenshot({ path: screenshotPath(`keys-${name}-${size.name}${dark}`) });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1360, height: 820 });
}

/**
 * Encryption as a user meets it in browser mode: a key made in the key wizard from the backup dialog (strength
 * meter, paper key page), an encrypted backup with its lock badges, then after a restart of the host (keys
 * locked) the browser asks to unlock and lists the files. No answer the page received holds the raw key.
 */
describe('encryption in the app, end to end in Chromium', () => {
  let base = '';
  let host: WebHost | undefined;
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let page: Page;
  const bodies: string[] = [];
  const consoleErrors: string[] = [];
  const start = () =>
    startWebHost(['--allow', base, '--data-dir', join(base, 'app-data')], { CAIRN_CONFIG_DIR: join(base, 'config') });

  beforeAll(async () => {
    base = tempDir('e2e-keys', storeTempRoot());
    mkdirSync(join(base, 'Taxes', '2026'), { recursive: true });
    writeFileSync(join(base, 'Taxes', '2026', 'return.txt'), 'income: a little\n');
    writeFileSync(join(base, 'Taxes', 'notes.txt'), 'ask about the shed\n');
    host = await start();
    ({ context, close: closeBrowser } = await launchChromium());
    page = await context.newPage();
    page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
    page.on('console', (m) => {
      if ((m.type() === 'error' || m.type() === 'warning') && !/Failed to load resource|ERR_CONNECTION/.test(m.text()))
        consoleErrors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/') && !r.url().includes('/api/events'))
        void r.text().then(
          (t) => bodies.push(t),
          () => {},
        );
    });
  }, 60_000);

  afterAll(async () => {
    await closeBrowser?.();
    const code = await host?.stop();
    expect(code, host?.output()).toBe(0);
    expect(consoleErrors).toEqual([]);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('makes a key in the wizard from the backup dialog and backs up encrypted, with lock badges', async () => {
    await page.goto(host!.url);
    const storePath = join(base, 'store');
    await page.getByLabel('New datastore folder (empty or new)').fill(storePath);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.locator('.store-info', { hasText: storePath }).waitFor({ timeout: 30_000 });

    await page.getByRole('button', { name: 'Back up a folder…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Back up a folder' });
    await dialog.getByLabel('Folder to back up').fill(join(base, 'Taxes'));
    await dialog.getByLabel('Encrypt this backup').check();
    await dialog.getByRole('button', { name: 'New key…' }).click();

    const wizard = page.getByRole('dialog', { name: 'New encryption key' });
    await wizard.getByLabel('Passphrase', { exact: true }).fill('password1');
    await wizard.getByText('very weak').waitFor({ timeout: 20_000 }); // the dictionaries loaded, a common password
    await wizard.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await wizard.getByText(/^(strong|very strong)$/).waitFor();
    await wizard.getByLabel('Passphrase again').fill(PASSPHRASE);
    await wizard.getByLabel(/^Hint/).fill('the kettle');
    await wizard.getByText(/browser mode cannot use the system keychain/).waitFor();
    await shootAll(page, 'wizard');
    await wizard.getByRole('button', { name: 'Create key' }).click();

    const paperStep = page.getByRole('dialog', { name: 'Save the paper key now' });
    await paperStep.getByText(/is made and unlocked/).waitFor({ timeout: 20_000 });
    const [paper] = await Promise.all([
      context.waitForEvent('page'),
      paperStep.getByRole('button', { name: 'Open the paper key to print' }).click(),
    ]);
    await paper.waitForLoadState();
    expect(await paper.textContent('pre')).toContain('-----BEGIN PROXMOX BACKUP KEY-----');
    expect(await paper.locator('svg').count()).toBe(1); // the QR code
    await paper.close();
    await paperStep.getByRole('button', { name: 'Done' }).click();

    await expect.poll(() => dialog.getByLabel('Key').inputValue()).toMatch(/^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
    await dialog.getByRole('button', { name: 'Start backup' }).click();
    await page.locator('[data-job-kind="backup"][data-status="done"]').waitFor({ timeout: 30_000 });

    const group = page.getByRole('option', { name: /Taxes/ });
    await group.getByRole('img', { name: /^Encrypted with the key ([0-9a-f]{2}:){7}[0-9a-f]{2}$/ }).waitFor();
    await group.click();
    const row = page.locator('[role="grid"] [data-snapshot^="host/Taxes/"]');
    await row.getByRole('img', { name: /^Encrypted with the key/ }).waitFor();
    await row.click();
    await shootAll(page, 'badges');
  });

  it('after a restart of the host, browsing asks to unlock the key, then lists the files', async () => {
    expect(await host!.stop()).toBe(0);
    host = await start();
    await page.reload();
    await page.getByRole('button', { name: join(base, 'store'), exact: true }).click();
    await page.getByRole('option', { name: /Taxes/ }).click();
    await openSnapshotRow(page, page.locator('[role="grid"] [data-snapshot^="host/Taxes/"]').first());

    const prompt = page.getByRole('dialog', { name: 'Unlock the encryption key' });
    await prompt.getByText('Hint: the kettle').waitFor();
    await prompt.getByLabel('Passphrase').fill('not the passphrase');
    await prompt.getByRole('button', { name: 'Unlock' }).click();
    await prompt
      .getByRole('alert')
      .getByText(/wrong passphrase/)
      .waitFor({ timeout: 20_000 });
    await prompt.getByLabel('Passphrase').fill(PASSPHRASE);
    await shootAll(page, 'unlock');
    await prompt.getByRole('button', { name: 'Unlock' }).click();
    await prompt.waitFor({ state: 'detached', timeout: 20_000 });
    await page.getByRole('treeitem', { name: /2026/ }).waitFor();
    await page.getByRole('treeitem', { name: /notes\.txt/ }).waitFor();
    await page
      .locator('.browser .pane-header')
      .getByRole('img', { name: /^Encrypted with the key/ })
      .waitFor();
  });

  it('lists the key in Keys, locks it, and no answer the page got holds the raw key', async () => {
    await page.getByRole('button', { name: 'Keys', exact: true }).click();
    const keys = page.getByRole('dialog', { name: 'Encryption keys' });
    await keys.getByText('unlocked', { exact: true }).waitFor();
    await keys.getByRole('button', { name: /^Lock / }).click();
    await keys.getByText('locked', { exact: true }).waitFor();
    await keys.getByRole('button', { name: 'Close', exact: true }).click();

    const keyFile = join(base, 'config', 'keys', 'default.json');
    const { key } = await decryptKey(readKeyFile(keyFile), Buffer.from(PASSPHRASE), keyFile);
    expect(bodies.length).toBeGreaterThan(10);
    const all = bodies.join('\n');
    for (const form of [key.toString('hex'), key.toString('base64'), key.toString('base64url')])
      expect(all).not.toContain(form);
    expect(all).not.toContain(PASSPHRASE);
    expect(readFileSync(keyFile, 'utf8')).not.toContain(key.toString('base64'));
  });
});
