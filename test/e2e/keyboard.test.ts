import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAppInBrowser, type AppInBrowser, type WebHost } from '../support/browser.js';
import { cairn } from '../support/processes.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

/** The keyboard alone gets the work done: dialogs take what is typed and give focus back, lists move with the arrows. */
describe('keyboard use, end to end in Chromium', () => {
  let base: string;
  let storePath: string;
  let app: AppInBrowser | undefined;
  let host: WebHost;
  let page: Page;

  const run = async (args: string[]) => {
    const r = await cairn(args);
    expect(r.code, r.stderr).toBe(0);
  };
  /** A fresh page with the store open, so each test starts where a user would. */
  const openStore = async () => {
    await page.goto(host.url);
    await page.getByLabel('Datastore folder', { exact: true }).fill(storePath);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByRole('option').first().click(); // the store opens on its overview
    await page.locator('[role="grid"] [data-snapshot]').first().waitFor({ timeout: 20_000 });
  };
  const isFocused = (locator: Locator) => locator.evaluate((el) => el === document.activeElement);

  beforeAll(async () => {
    base = tempDir('e2e-keyboard', storeTempRoot());
    storePath = join(base, 'store');
    await run(['init', storePath]);
    for (const id of ['alpha', 'beta', 'gamma']) {
      mkdirSync(join(base, id));
      writeFileSync(join(base, id, 'file.txt'), id);
      await run(['backup', storePath, join(base, id), '--id', id]);
    }
    app = await openAppInBrowser(base);
    ({ host, page } = app);
  }, 60_000);

  afterAll(async () => {
    const code = await app?.close();
    expect(code, app?.host.output()).toBe(0);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('a dialog opens with focus in its first field, so typing goes there; Escape gives focus back to the button that opened it', async () => {
    await openStore();
    const opener = page.getByRole('button', { name: 'Back up a folder…' });
    await opener.click();
    const dialog = page.getByRole('dialog', { name: 'Back up a folder' });
    await page.keyboard.type('/typed/path');
    expect(await dialog.getByLabel('Folder to back up').inputValue()).toBe('/typed/path');

    // A dialog over the dialog: the folder browser, opened from Browse…, closes alone and gives focus back to Browse….
    const browse = dialog.getByRole('button', { name: 'Browse…' });
    await browse.click();
    const folders = page.getByRole('dialog', { name: 'Folder to back up' });
    await folders.getByRole('button', { name: 'Go', exact: true }).waitFor();
    expect(await isFocused(folders.getByLabel('Folder', { exact: true }))).toBe(true);
    await page.keyboard.press('Escape');
    await folders.waitFor({ state: 'detached' });
    expect(await isFocused(browse)).toBe(true);

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await isFocused(opener)).toBe(true);
  });

  it('a question without a field opens on its safe answer, and gives focus back too', async () => {
    await openStore();
    await page.locator('[role="grid"] [data-snapshot]').first().click();
    const forget = page.getByRole('button', { name: 'Forget…' });
    await forget.click();
    const dialog = page.getByRole('dialog', { name: 'Forget snapshot?' });
    expect(await isFocused(dialog.getByRole('button', { name: 'Keep it' }))).toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await isFocused(forget)).toBe(true);

    const notes = page.getByRole('button', { name: 'Notes…' });
    await notes.click();
    await page.keyboard.type('typed at once');
    expect(await page.getByRole('dialog').locator('textarea').inputValue()).toBe('typed at once');
    await page.keyboard.press('Escape');
    expect(await isFocused(notes)).toBe(true);
  });

  it('the group list moves with Up, Down, Home and End, like the tables', async () => {
    await openStore();
    const groups = page.getByRole('listbox', { name: 'Backup groups' });
    const selected = () => groups.locator('[aria-selected="true"]').textContent();
    await groups.getByRole('option', { name: /alpha/ }).click();
    await page.keyboard.press('ArrowDown');
    await expect.poll(selected).toMatch(/beta/);
    expect(await isFocused(groups.getByRole('option', { name: /beta/ }))).toBe(true);
    await page.getByRole('heading', { name: 'Snapshots of host/beta' }).waitFor();
    await page.keyboard.press('End');
    await expect.poll(selected).toMatch(/gamma/);
    await page.keyboard.press('ArrowUp');
    await expect.poll(selected).toMatch(/beta/);
    await page.keyboard.press('Home');
    await expect.poll(selected).toMatch(/alpha/);
    // One stop for Tab: the selected group, not every group in turn.
    expect(await groups.locator('[tabindex="0"]').count()).toBe(1);
  });
});
