import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshotPath, startWebHost, watchConsole, type WebHost } from '../support/browser.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

/** Whether the page runs out of the window sideways, or a dashboard card does. Runs in the page. */
function overflowing(): string[] {
  const problems: string[] = [];
  if (document.documentElement.scrollWidth > innerWidth + 0.5) problems.push('the page is wider than the window');
  for (const card of document.querySelectorAll<HTMLElement>('.dash-card'))
    if (card.scrollWidth > card.clientWidth + 1) problems.push(`${card.className} scrolls sideways`);
  return problems;
}

/**
 * The dashboard as a user meets it in browser mode: a store and a plan made in the UI, "Back up now" twice, then
 * the store opened from the plan: its overview shows the plan, the store's size, free space and both charts.
 */
describe('the store dashboard in browser mode, end to end in Chromium', () => {
  let base = '';
  let host: WebHost | undefined;
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    base = tempDir('e2e-dashboard', storeTempRoot());
    const source = join(base, 'Documents');
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'notes.txt'), 'remember the milk\n'.repeat(4000));
    host = await startWebHost(['--allow', base, '--data-dir', join(base, 'app-data')]);
    ({ context, close: closeBrowser } = await launchChromium());
    page = await context.newPage();
    watchConsole(page, consoleErrors);
  }, 60_000);

  afterAll(async () => {
    await closeBrowser?.();
    const code = await host?.stop();
    expect(code, host?.output()).toBe(0);
    expect(consoleErrors).toEqual([]);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('shows the plan, the size, the free space and two snapshots of new bytes after two backups', async () => {
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.goto(host!.url);
    const storePath = join(base, 'store');
    await page.getByLabel('New datastore folder (empty or new)').fill(storePath);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.locator('.store-info', { hasText: storePath }).waitFor({ timeout: 30_000 });
    const overview = page.getByRole('region', { name: 'Overview' });
    await overview.getByText('No plan backs up into this store yet', { exact: false }).waitFor();
    await overview.getByText('No snapshots yet', { exact: false }).waitFor();

    await overview.getByRole('button', { name: 'New plan…' }).click();
    const editor = page.getByRole('dialog', { name: 'New backup plan' });
    await editor.getByLabel('Plan name').fill('Documents');
    await editor.getByLabel('Folder to back up').fill(join(base, 'Documents'));
    await editor.getByRole('button', { name: 'Create plan' }).click();
    await editor.waitFor({ state: 'detached' });

    await page.getByRole('button', { name: /^Plans( \d+)?$/ }).click();
    const card = page.getByRole('listitem', { name: 'Plan Documents' });
    for (const run of [1, 2]) {
      if (run === 2) appendFileSync(join(base, 'Documents', 'notes.txt'), 'and the eggs\n'.repeat(3000));
      await card.getByRole('button', { name: 'Back up now' }).click();
      await page
        .getByRole('article', { name: /Plan “Documents”: backup of/ })
        .getByText('Done', { exact: true })
        .nth(run - 1)
        .waitFor({ timeout: 30_000 });
    }
    await card.getByRole('button', { name: 'Open store' }).click();

    await overview.getByRole('img', { name: /^New bytes per snapshot: 2 snapshots in 1 group/ }).waitFor();
    await overview.getByRole('img', { name: /^Store size over time: [12] samples?/ }).waitFor({ timeout: 15_000 });
    expect(await overview.locator('canvas').count()).toBe(2);
    const plan = overview.getByRole('listitem', { name: 'Plan Documents' });
    await plan.locator('.state-badge[data-state="ok"]').waitFor();
    await plan.getByText('just now', { exact: false }).first().waitFor();
    expect(await overview.getByTestId('store-size').textContent()).toMatch(/^[\d.]+ (B|KiB|MiB) in \d+ chunks?/);
    expect(await overview.getByTestId('disk-free').textContent()).toMatch(/ free of /);
  }, 120_000);

  it('is readable at 1024×700 and 1920×1080, light and dark', async () => {
    for (const [width, height] of [
      [1024, 700],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.waitForTimeout(300); // the charts are drawn again for the new width and colours
        expect(await page.evaluate(overflowing), `${width}x${height} ${scheme}`).toEqual([]);
        await page.screenshot({ path: screenshotPath(`dashboard-${width}x${height}-${scheme}`) });
      }
    }
  });
});
