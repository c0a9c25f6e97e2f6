import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startWebHost, type WebHost } from '../support/browser.js';
import { cairn } from '../support/processes.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

/**
 * Browser mode across a restart of its host: the page shows at once that the host went away, comes back by
 * itself when it returns (same address, same key: the session is kept, mode 0600), and the tasks panel still
 * holds what ran before. A host started with --new-key refuses the old page, which says so.
 */
describe('browser mode survives a restart of its host', () => {
  let base = '';
  let dataDir = '';
  let host: WebHost | undefined;
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let page: Page;
  let store = '';

  const start = (extra: string[] = []) => startWebHost(['--allow', base, '--data-dir', dataDir, ...extra]);

  beforeAll(async () => {
    base = tempDir('restart', storeTempRoot());
    dataDir = join(base, 'app-data');
    store = join(base, 'store');
    const source = join(base, 'Documents');
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'a.txt'), 'a');
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

  it('shows the lost connection at once, reconnects to the restarted host, and keeps the task history', async () => {
    await page.goto(host!.url);
    await page.getByLabel('Datastore folder', { exact: true }).fill(store);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByRole('button', { name: 'Run garbage collection' }).click();
    await page
      .getByRole('article', { name: /Garbage collection of/ })
      .getByText('Done', { exact: true })
      .waitFor();
    const url = host!.url;
    expect(statSync(join(dataDir, 'browser-session.json')).mode & 0o777).toBe(0o600);

    expect(await host!.stop()).toBe(0);
    const banner = page.getByRole('alert').filter({ hasText: 'Connection to Cairn lost' });
    await banner.waitFor({ timeout: 5_000 });

    host = await start();
    expect(host.url).toBe(url);
    await banner.waitFor({ state: 'detached', timeout: 15_000 });
    // The page works again without a reload, and the job of the first run is still in the tasks panel.
    await page.getByRole('article', { name: /Garbage collection of/ }).waitFor();
    await page.getByRole('button', { name: 'Run garbage collection' }).click();
    await expect
      .poll(() => page.getByRole('article', { name: /Garbage collection of/ }).count(), { timeout: 15_000 })
      .toBe(2);
  });

  it('a host started with a new key refuses the old page, and the page says to open the new address', async () => {
    expect(await host!.stop()).toBe(0);
    host = await start(['--new-key']);
    await page.getByRole('alert').filter({ hasText: 'key is no longer accepted' }).waitFor({ timeout: 15_000 });
    await page.goto(host.url);
    await page
      .getByRole('article', { name: /Garbage collection of/ })
      .first()
      .waitFor();
  });
});
