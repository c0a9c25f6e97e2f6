import { chmodSync, chownSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppInBrowser,
  openAppInBrowser,
  screenshotPath,
  shootEverySize,
  watchConsole,
} from '../support/browser.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

// Root reads a file of mode 000: when the tests run as root (CI), the host runs as "nobody".
const user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), uid, gid);
}

/**
 * A plan whose folder holds a file Cairn cannot read: the run makes its snapshot, but the app does not call it
 * OK. The task needs attention and names the file, the plan reads "Incomplete" and names it too, the Plans
 * button counts it; once the file can be read, the next run is whole and the plan is OK again.
 */
describe('a backup that could not read a file, end to end in Chromium', () => {
  let base = '';
  let app: AppInBrowser | undefined;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    base = tempDir('e2e-incomplete', storeTempRoot());
    const source = join(base, 'Documents');
    mkdirSync(join(source, 'private'), { recursive: true });
    writeFileSync(join(source, 'notes.txt'), 'remember the milk\n');
    writeFileSync(join(source, 'private', 'diary.txt'), 'dear diary\n', { mode: 0o000 });
    chmodSync(join(source, 'private', 'diary.txt'), 0o000);
    if (user) chownTree(base, user.uid, user.gid);
    app = await openAppInBrowser(base, [], { HOME: base }, user);
    page = app.page;
    watchConsole(page, consoleErrors);
  }, 60_000);

  afterAll(async () => {
    const code = await app?.close();
    expect(code, app?.host.output()).toBe(0);
    expect(consoleErrors).toEqual([]);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('names the file on the task and on the plan, and calls the plan incomplete until a run takes it', async () => {
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.goto(app!.host.url);
    await page.getByLabel('New datastore folder (empty or new)').fill(join(base, 'store'));
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const overview = page.getByRole('region', { name: 'Overview' });
    await overview.getByRole('button', { name: 'New plan…' }).click({ timeout: 30_000 });
    const editor = page.getByRole('dialog', { name: 'New backup plan' });
    await editor.getByLabel('Plan name').fill('Documents');
    await editor.getByLabel('Folder to back up').fill(join(base, 'Documents'));
    await editor.getByRole('button', { name: 'Create plan' }).click();
    await editor.waitFor({ state: 'detached' });

    const plansButton = page.getByRole('button', { name: /^Plans( \d+)?$/ });
    await plansButton.click();
    const card = page.getByRole('listitem', { name: 'Plan Documents' });
    await card.getByRole('button', { name: 'Back up now' }).click();
    const task = page.getByRole('article', { name: /Plan “Documents”: backup of/ }).first();
    await task.getByText('Needs attention', { exact: true }).waitFor({ timeout: 30_000 });
    const problems = task.getByRole('alert', { name: 'Problems found' });
    await problems.getByText('private/diary.txt', { exact: true }).waitFor();
    expect(await problems.locator('li').first().textContent()).toBe('private/diary.txt permission denied');
    expect(await problems.textContent()).toContain('Give Cairn read access to them (or exclude them)');

    const badge = card.locator('.state-badge[data-state="incomplete"]');
    expect(await badge.textContent()).toBe('Incomplete: 1 entry left out');
    const note = card.getByRole('alert');
    expect(await note.textContent()).toContain('The last run could not read 1 entry');
    await note.getByText('private/diary.txt', { exact: true }).waitFor();
    expect(await plansButton.textContent()).toBe('Plans1');

    await shootEverySize(page, 'incomplete-plan');

    // The snapshot says so too, where it is listed: the task card and the plan are not all a user looks at.
    await card.getByRole('button', { name: 'Open store' }).click();
    await page.getByRole('option', { name: /Documents/ }).click();
    const row = page.locator('[role="grid"] [data-snapshot^="host/Documents/"]');
    await row.getByText('incomplete: 1 left out').waitFor();
    await page.screenshot({ path: screenshotPath('incomplete-snapshot-row-1280x800-light') });
    await plansButton.click();

    chmodSync(join(base, 'Documents', 'private', 'diary.txt'), 0o644);
    await card.getByRole('button', { name: 'Back up now' }).click();
    await card.locator('.state-badge[data-state="ok"]').waitFor({ timeout: 30_000 });
    expect(await card.getByRole('alert').count()).toBe(0);
    expect(await plansButton.textContent()).toBe('Plans');

    await card.getByRole('button', { name: 'History and details' }).click();
    const history = page.getByRole('table', { name: 'Run history' });
    await history.getByRole('row').filter({ hasText: 'Succeeded' }).waitFor();
    const results = await history.locator('td.run-result').allTextContents();
    expect(results).toEqual(['Succeeded', 'Incomplete']);
    await history
      .getByText('Could not read 1 entry, not in the snapshot: private/diary.txt (permission denied)')
      .waitFor();
  }, 120_000);
});
