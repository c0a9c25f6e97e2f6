import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSnapshotPath } from '../../core/backup/backup-names.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { snapshotKeyFingerprint } from '../../core/datastore/snapshot-key.js';
import { launchChromium, screenshotPath, startWebHost, type WebHost } from '../support/browser.js';
import { cairn } from '../support/processes.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

const PASSPHRASE = 'lantern maple circuit seven';
const SIZES = [
  [1024, 700],
  [1920, 1080],
] as const;

/** The open plan editor at both sizes, light and dark, scrolled to its Encryption section. */
async function shootEditor(page: Page): Promise<void> {
  for (const [width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.getByRole('group', { name: 'Encryption' }).evaluate((el) => el.scrollIntoView({ block: 'center' }));
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth + 0.5)).toBe(true);
      await page.screenshot({ path: screenshotPath(`keys-plan-editor-${width}x${height}-${scheme}`) });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'light' });
}

/**
 * An encrypted plan as a user makes it in browser mode: "Encrypt its backups" in the editor makes the
 * first key with the wizard; "Back up now" backs up with it; with the key locked the plan fails saying which
 * key, and runs again once it is unlocked.
 */
describe('an encrypted plan in browser mode, end to end in Chromium', () => {
  let base = '';
  let host: WebHost | undefined;
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let page: Page;
  let store = '';
  let source = '';

  beforeAll(async () => {
    base = tempDir('plan-keys-e2e', storeTempRoot());
    store = join(base, 'store');
    source = join(base, 'Taxes');
    mkdirSync(source);
    writeFileSync(join(source, 'return-2026.txt'), 'income: a little\n');
    expect((await cairn(['init', store, '--sync', 'none'])).code).toBe(0);
    host = await startWebHost(['--allow', base, '--data-dir', join(base, 'app-data')], {
      CAIRN_CONFIG_DIR: join(base, 'config'),
    });
    ({ context, close: closeBrowser } = await launchChromium());
    page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 60_000);

  afterAll(async () => {
    await closeBrowser?.();
    await host?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('makes the key from the plan editor and backs up with it', async () => {
    await page.goto(host!.url);
    await page.getByLabel('Datastore folder', { exact: true }).fill(store);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByRole('button', { name: /^Plans( \d+)?$/ }).click();
    await page.getByRole('button', { name: 'New plan…' }).first().click();
    const editor = page.getByRole('dialog', { name: 'New backup plan' });
    await editor.getByLabel('Plan name').fill('Taxes');
    await editor.getByLabel('Folder to back up').fill(source);
    await editor.getByLabel('Runs').selectOption('manual');
    // No key yet: the checkbox opens the wizard (and is checked once the key is made).
    await editor.getByLabel('Encrypt its backups').click();

    const wizard = page.getByRole('dialog', { name: 'Create an encryption key' });
    await wizard.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await wizard.getByLabel('Passphrase again').fill(PASSPHRASE);
    await wizard.getByRole('button', { name: 'Create key' }).click();
    const paper = page.getByRole('dialog', { name: 'Save the paper key now' });
    await paper.waitFor({ timeout: 20_000 });
    await paper
      .getByRole('button', { name: /^(Done|Close|Skip)/ })
      .first()
      .click();
    await paper.waitFor({ state: 'detached' });

    await expect
      .poll(() => editor.getByLabel('Key', { exact: true }).inputValue())
      .toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/);
    await editor.getByText(/Runs in the app need the key unlocked/).waitFor();
    await shootEditor(page);
    await editor.getByRole('button', { name: 'Create plan' }).click();
    await editor.waitFor({ state: 'detached' });

    const card = page.getByRole('listitem', { name: 'Plan Taxes' });
    await card.getByRole('button', { name: 'Back up now' }).click();
    await card.locator('.state-badge[data-state="ok"]').waitFor({ timeout: 30_000 });
    const ds = Datastore.open(store);
    const [snap] = ds.listSnapshots({ type: 'host', id: 'Taxes' });
    expect(snapshotKeyFingerprint(ds.readManifest(parseSnapshotPath(snap!.path)))).toMatch(/^[0-9a-f]{2}(:|$)/);
  }, 90_000);

  it('with the key locked the plan fails naming the key; unlocked, "Back up now" succeeds again', async () => {
    await page.getByRole('button', { name: 'Keys', exact: true }).click();
    const line = page.getByRole('list', { name: 'Encryption keys' }).getByRole('listitem');
    await line.getByRole('button', { name: /^Lock/ }).click();
    await line.getByText('locked', { exact: true }).waitFor();
    await page.getByRole('button', { name: /^Plans( \d+)?$/ }).click();
    const card = page.getByRole('listitem', { name: 'Plan Taxes' });
    await card.getByRole('button', { name: 'Back up now' }).click();
    await card.locator('.state-badge[data-state="failing"]').waitFor({ timeout: 30_000 });
    await page
      .getByText(/the plan "Taxes" encrypts with the key/)
      .first()
      .waitFor();

    await page.getByRole('button', { name: 'Keys', exact: true }).click();
    await line.getByRole('button', { name: /^Unlock/ }).click();
    const prompt = page.getByRole('dialog', { name: /Unlock/ });
    await prompt.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await prompt.getByRole('button', { name: 'Unlock', exact: true }).click();
    await line.getByText('unlocked', { exact: true }).waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: /^Plans( \d+)?$/ }).click();
    await card.getByRole('button', { name: 'Back up now' }).click();
    await card.locator('.state-badge[data-state="ok"]').waitFor({ timeout: 30_000 });
  }, 90_000);
});
