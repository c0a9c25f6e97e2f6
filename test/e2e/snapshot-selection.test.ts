import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppInBrowser,
  openAppInBrowser,
  openSnapshotRow,
  screenshotPath,
  type WebHost,
} from '../support/browser.js';
import { cairn } from '../support/processes.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

/**
 * What the app acts on is what the user chose: a restore of everything never turns into a selection, and a
 * selected snapshot stays the one Browse, Verify and Forget use while backups arrive and others are forgotten.
 */
describe('what the snapshot actions act on, end to end in Chromium', () => {
  let base: string;
  let storePath: string;
  let source: string;
  let app: AppInBrowser | undefined;
  let host: WebHost;
  let page: Page;

  const run = async (args: string[]) => {
    const r = await cairn(args);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  // Snapshot times are whole seconds: a second backup of a group within the same second would be refused.
  const backUp = async () => {
    await sleep(1100);
    await run(['backup', storePath, source, '--id', 'home']);
  };
  const rows = () => page.locator('[role="grid"] [data-snapshot]');
  /** A fresh page with the store open, so each test starts where a user would. */
  const openStore = async () => {
    await page.goto(host.url);
    await page.getByLabel('Datastore folder', { exact: true }).fill(storePath);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByRole('option').first().click(); // the store opens on its overview
    await rows().first().waitFor({ timeout: 20_000 });
  };
  const snapshotPaths = () => rows().evaluateAll((els) => els.map((e) => e.getAttribute('data-snapshot')!));

  beforeAll(async () => {
    base = tempDir('e2e-selection', storeTempRoot());
    storePath = join(base, 'store');
    source = join(base, 'home');
    mkdirSync(join(source, 'docs'), { recursive: true });
    writeFileSync(join(source, '.bashrc'), 'alias ll="ls -l"\n');
    writeFileSync(join(source, 'notes.txt'), 'remember the milk\n');
    writeFileSync(join(source, 'docs', 'a.txt'), 'a\n');
    await run(['init', storePath]);
    for (let i = 0; i < 3; i++) await backUp();
    app = await openAppInBrowser(base);
    ({ host, page } = app);
  }, 60_000);

  afterAll(async () => {
    const code = await app?.close();
    expect(code, app?.host.output()).toBe(0);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('"Restore everything…" leaves the ticked items as they were, cancelled or done, and a later restore of the ticks restores only them', async () => {
    await openStore();
    await openSnapshotRow(page, rows().first());
    const tick = (path: string) => page.getByRole('checkbox', { name: `Select ${path}` });
    await tick('.bashrc').check();
    await tick('notes.txt').check();

    await page.getByRole('button', { name: 'Restore everything…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore' });
    await dialog.getByText('Everything in this snapshot').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await tick('.bashrc').isChecked()).toBe(true);
    expect(await tick('notes.txt').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Restore selected (2)…' }).waitFor();

    // A real "restore everything" restores the whole snapshot, and the ticks are still the user's.
    const all = join(base, 'restored-all');
    await page.getByRole('button', { name: 'Restore everything…' }).click();
    await dialog.getByLabel('Restore into folder').fill(all);
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await page
      .getByRole('article', { name: /^Restore everything of / })
      .and(page.locator('[data-status="done"]'))
      .waitFor({ timeout: 30_000 });
    expect(readdirSync(all).sort()).toEqual(['.bashrc', 'docs', 'notes.txt']);
    expect(await tick('.bashrc').isChecked()).toBe(true);
    expect(await tick('notes.txt').isChecked()).toBe(true);

    // One tick left: exactly that file is restored, nothing of "the whole snapshot".
    await tick('notes.txt').uncheck();
    await page.getByRole('button', { name: 'Restore selected (1)…' }).click();
    expect(await dialog.locator('li').allTextContents()).toEqual(['.bashrc']);
    const one = join(base, 'restored-one');
    await dialog.getByLabel('Restore into folder').fill(one);
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await page
      .getByRole('article', { name: /^Restore \.bashrc of / })
      .and(page.locator('[data-status="done"]'))
      .waitFor({ timeout: 30_000 });
    expect(readdirSync(one)).toEqual(['.bashrc']);
    expect(readFileSync(join(one, '.bashrc'), 'utf8')).toBe('alias ll="ls -l"\n');
    await page.getByRole('button', { name: '← Snapshots' }).click();
  });

  const selectedPaths = () =>
    page
      .locator('[role="grid"] [aria-selected="true"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-snapshot')));

  /** Browse, Verify and Forget… each act on `snapshot`, and the table shows it as the selected one. */
  async function expectActionsOn(snapshot: string) {
    expect(await selectedPaths()).toEqual([snapshot]);
    const actions = page.getByRole('toolbar', { name: 'Snapshot actions' });
    await actions.getByRole('button', { name: 'Forget…' }).click();
    const forget = page.getByRole('dialog', { name: 'Forget snapshot?' });
    expect(await forget.textContent()).toContain(snapshot);
    await forget.getByRole('button', { name: 'Keep it' }).click();
    const verifyCards = page.getByRole('article', { name: `Verify ${snapshot}`, exact: true });
    const verifiedBefore = await verifyCards.count();
    await actions.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect.poll(() => verifyCards.count()).toBe(verifiedBefore + 1);
    await actions.getByRole('button', { name: 'Browse', exact: true }).click();
    expect(await page.locator('#browser-title').textContent()).toBe(snapshot);
    await page.getByRole('button', { name: '← Snapshots' }).click();
  }

  it('keeps the selected snapshot, and what Browse, Verify and Forget act on, while a new backup arrives and one above it is forgotten', async () => {
    await openStore();
    await expect.poll(() => rows().count()).toBe(3);
    const chosen = (await snapshotPaths())[1]!;
    // Choosing a row does not move the table under the pointer (the actions take the hint's room).
    const gridTop = () => page.locator('.grid').evaluate((e) => e.getBoundingClientRect().top);
    const before = await gridTop();
    await rows().nth(1).click();
    await page.getByRole('toolbar', { name: 'Snapshot actions' }).waitFor();
    expect(await gridTop()).toBe(before);

    // A backup made outside the app (the CLI) arrives by the live update: a new row on top.
    await backUp();
    await expect.poll(() => rows().count(), { timeout: 20_000 }).toBe(4);
    await page.screenshot({ path: screenshotPath('selection-after-new-backup') });
    await expectActionsOn(chosen);

    // The newest one is forgotten elsewhere: a row above the selected one goes.
    const newest = (await snapshotPaths())[0]!;
    await run(['forget', storePath, newest]);
    await expect.poll(() => rows().count(), { timeout: 20_000 }).toBe(3);
    await expectActionsOn(chosen);
  });

  it('after forgetting the selected snapshot, no other one becomes the target of the next Forget', async () => {
    await openStore();
    const [newest, ...others] = await snapshotPaths();
    await page.locator(`[data-snapshot="${newest}"]`).click();
    await page.getByRole('button', { name: 'Forget…' }).click();
    await page.getByRole('button', { name: 'Forget snapshot' }).click();
    await expect.poll(() => snapshotPaths()).toEqual(others);
    expect(await selectedPaths()).toEqual([]);
    await page.getByText('Choose a snapshot in the table to act on it.').waitFor();
  });
});
