import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderArchiveReader } from '../../core/archive/folder-reader.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { PlanBook } from '../../core/plans/plan-book.js';
import { launchChromium, screenshotPath, startWebHost, type WebHost } from '../support/browser.js';
import { cairn } from '../support/processes.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

/** Everything in the page whose text is cut or that runs out of its box sideways (checked at each size). Runs in the page. */
function cutOrOverflowing(root: string): string[] {
  const problems: string[] = [];
  if (document.documentElement.scrollWidth > innerWidth + 0.5)
    problems.push(`the page is ${document.documentElement.scrollWidth - innerWidth}px wider than the window`);
  for (const el of document.querySelectorAll<HTMLElement>(
    `${root} button, ${root} h2, ${root} h3, ${root} .state-badge, ${root} dd, ${root} legend, ${root} label`,
  )) {
    if (!el.checkVisibility()) continue;
    if (el.scrollWidth > el.clientWidth + 1 && !el.matches('table *'))
      problems.push(`"${(el.textContent ?? '').trim().slice(0, 40)}" has its text cut`);
  }
  for (const box of document.querySelectorAll<HTMLElement>(`${root} .plan-card, ${root} .editor-section, dialog`)) {
    if (box.checkVisibility() && box.scrollWidth > box.clientWidth + 1)
      problems.push(`${box.className} scrolls sideways by ${box.scrollWidth - box.clientWidth}px`);
  }
  return problems;
}

/** The top bar's Plans button (its name has the count of plans that need a look, if any). */
const plansButton = (page: Page) => page.getByRole('button', { name: /^Plans( \d+)?$/ });

/**
 * Backup plans as a new user meets them in browser mode: a store and a plan made in the UI, "Back up now", the
 * run in the plan's history and in Tasks, the plan and its history still there after the host restarts, and a
 * plan whose folder went away failing, with a notice in the window. The host's config folder (plans, scheduler)
 * is a temp folder ($CAIRN_CONFIG_DIR), never the user's.
 */
describe('backup plans in browser mode, end to end in Chromium', () => {
  let base = '';
  let source = '';
  let host: WebHost | undefined;
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let page: Page;
  const consoleErrors: string[] = [];
  const start = () =>
    startWebHost(['--allow', base, '--data-dir', join(base, 'app-data')], { CAIRN_CONFIG_DIR: join(base, 'config') });

  beforeAll(async () => {
    base = tempDir('e2e-plans', storeTempRoot());
    source = join(base, 'Documents');
    mkdirSync(join(source, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(join(source, 'notes.txt'), 'remember the milk\n'.repeat(2000));
    writeFileSync(join(source, 'node_modules', 'left-pad', 'index.js'), 'module.exports = 1;\n');
    host = await start();
    ({ context, close: closeBrowser } = await launchChromium());
    page = await context.newPage();
    page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
    page.on('console', (m) => {
      // A page that lost its host while it restarted logs the failed requests; anything else is a bug.
      if ((m.type() === 'error' || m.type() === 'warning') && !/Failed to load resource|ERR_CONNECTION/.test(m.text()))
        consoleErrors.push(`${m.type()}: ${m.text()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await closeBrowser?.();
    const code = await host?.stop();
    expect(code, host?.output()).toBe(0);
    expect(consoleErrors).toEqual([]);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('creates a store and a plan in the UI; "Back up now" runs it into its history and the Tasks panel', async () => {
    await page.goto(host!.url);
    const storePath = join(base, 'store');
    await page.getByLabel('New datastore folder (empty or new)').fill(storePath);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.locator('.store-info', { hasText: storePath }).waitFor({ timeout: 30_000 });

    await plansButton(page).click();
    await page.getByRole('heading', { name: 'No plans yet' }).waitFor();
    await page.getByRole('button', { name: 'New plan…' }).first().click();
    const editor = page.getByRole('dialog', { name: 'New backup plan' });
    await editor.getByLabel('Plan name').fill('Documents');
    await editor.getByLabel('Folder to back up').fill(source);
    expect(await editor.getByLabel('Datastore', { exact: true }).inputValue()).toBe(storePath);
    await editor.getByLabel('node_modules').check();
    await editor.getByLabel('Runs').selectOption('interval');
    await editor.getByLabel('Every', { exact: true }).fill('1');
    await editor.getByLabel('Unit').selectOption('minutes');
    await editor.getByLabel('Schedule preview').getByText('Runs every 1 minute.').waitFor();
    expect(await editor.getByLabel('Schedule preview').getByRole('listitem').count()).toBe(3);
    await editor.getByRole('button', { name: 'Create plan' }).click();
    await editor.waitFor({ state: 'detached' });

    const card = page.getByRole('listitem', { name: 'Plan Documents' });
    await card.getByText('Every 1 minute').waitFor();
    await card.getByRole('button', { name: 'Back up now' }).click();
    await card.locator('.state-badge[data-state="ok"]').waitFor({ timeout: 30_000 });
    await page
      .getByRole('article', { name: /Plan “Documents”: backup of/ })
      .getByText('Done', { exact: true })
      .first()
      .waitFor();
    expect(Datastore.open(storePath).listSnapshots({ type: 'host', id: 'Documents' }).length).toBeGreaterThan(0);

    await card.getByRole('button', { name: 'History and details' }).click();
    const history = page.getByRole('table', { name: 'Run history' });
    await history.getByRole('row').filter({ hasText: 'By hand' }).filter({ hasText: 'Succeeded' }).waitFor();
    // The preset's node_modules/ is among the excludes, and the backup left it out.
    await page.getByRole('region', { name: 'Excluded' }).getByText('node_modules/').waitFor();
    const row = history.getByRole('row').filter({ hasText: 'By hand' }).first();
    expect(await row.getByRole('cell').nth(5).textContent()).toBe('1'); // one file: notes.txt
  });

  it('keeps the plan and its history across a restart of the host', async () => {
    expect(await host!.stop()).toBe(0);
    await page.getByRole('alert').filter({ hasText: 'Connection to Cairn lost' }).waitFor({ timeout: 5_000 });
    host = await start();
    await page.getByRole('alert').filter({ hasText: 'Connection to Cairn lost' }).waitFor({ state: 'detached' });
    // A fresh page too: the plans come from the config folder, not from the page.
    await page.reload();
    await plansButton(page).click();
    const card = page.getByRole('listitem', { name: 'Plan Documents' });
    await card.locator('.state-badge[data-state="ok"]').waitFor();
    await card.getByRole('button', { name: 'History and details' }).click();
    await page
      .getByRole('table', { name: 'Run history' })
      .getByRole('row')
      .filter({ hasText: 'By hand' })
      .first()
      .waitFor();
    await page.getByRole('button', { name: '← All plans' }).click();
  });

  it('makes a plan of two folders (the second from the folder browser) and a disk image, and backs them up as one snapshot', async () => {
    const music = join(base, 'Music');
    mkdirSync(music);
    writeFileSync(join(music, 'song.ogg'), 'la la la\n'.repeat(500));
    const image = join(base, 'vm', 'disk.img');
    mkdirSync(join(base, 'vm'));
    writeFileSync(image, Buffer.alloc(256 * 1024, 7));
    // The plans view is open since the last test went back to the list.
    await page.getByRole('button', { name: 'New plan…' }).first().click();
    const editor = page.getByRole('dialog', { name: 'New backup plan' });
    await editor.getByLabel('Plan name').fill('Two places');
    await editor.getByLabel('Folder to back up').fill(source);
    await editor.getByRole('button', { name: 'Add a folder' }).click();
    await editor.locator('.more-source').getByRole('button', { name: 'Browse…' }).click();
    const browser = page.getByRole('dialog', { name: 'Folder to back up' });
    await browser.getByLabel('Folder', { exact: true }).fill(music);
    await browser.getByRole('button', { name: 'Go', exact: true }).click();
    await browser.getByText('1 file in this folder.').waitFor();
    await browser.getByRole('button', { name: 'Choose this folder' }).click();
    // The chosen path arrives asynchronously (the picker's promise), so wait for it rather than read at once.
    await expect.poll(() => editor.getByLabel('Folder 2', { exact: true }).inputValue()).toBe(music);
    await editor.getByRole('button', { name: 'Add a disk image' }).click();
    await editor.getByLabel('Disk image file 3', { exact: true }).fill(image);
    await editor.getByLabel('Runs').selectOption('manual');
    await editor.getByLabel('Disk image file 3', { exact: true }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('plans-editor-sources') });
    await editor.getByRole('button', { name: 'Create plan' }).click();
    await editor.waitFor({ state: 'detached' });

    const card = page.getByRole('listitem', { name: 'Plan Two places' });
    for (const path of [source, music, image]) await card.getByText(path, { exact: true }).waitFor();
    await card.getByRole('button', { name: 'Back up now' }).click();
    await card.locator('.state-badge[data-state="ok"]').waitFor({ timeout: 30_000 });
    const store = Datastore.open(join(base, 'store'));
    const [snapshot] = store.listSnapshots({ type: 'host', id: 'Two-places' });
    expect(snapshot?.files.sort()).toEqual(['disk.img.fidx', 'folder.data.didx', 'folder.meta.didx']);
    const root = new FolderArchiveReader(store.openSnapshot(snapshot!)).list('');
    expect(root.map((e) => e.name.toString())).toEqual(['Documents', 'Music']);
  });

  it('shows a plan whose folder went away as failing, and tells the user in the window', async () => {
    renameSync(source, `${source}-moved`);
    const card = page.getByRole('listitem', { name: 'Plan Documents' });
    await card.getByRole('button', { name: 'Back up now' }).click();
    await card.getByText(/^Failing: \d+ failed runs?$/).waitFor({ timeout: 30_000 });
    await card.getByText(/Last run failed: .*Documents/).waitFor();
    const toast = page.getByRole('alert').filter({ hasText: 'Backup "Documents" failed' });
    await toast.waitFor();
    expect(await toast.textContent()).toMatch(/Cairn tries again later/);
    await page.screenshot({ path: screenshotPath('plans-failing') });
    // The top bar says a plan needs a look; the toast leads to the plan.
    await page.getByRole('button', { name: 'Plans 1' }).waitFor();
    await toast.getByRole('button', { name: 'Show plan' }).click();
    await page.getByRole('heading', { name: 'Plan “Documents”' }).waitFor();
    await page
      .getByRole('table', { name: 'Run history' })
      .getByRole('row')
      .filter({ hasText: 'Failed' })
      .first()
      .waitFor();
  });
});

/**
 * The plans screens as the README shows them, at the smallest and a large window, light and dark: a list with
 * plans in several states (made with the plans file, as the CLI would, then run by the host's scheduler), one
 * plan in full, and the editor. Nothing may be cut or run out of its box.
 */
describe('the plans screens from 1024×700 to 1920×1080, light and dark', () => {
  let base = '';
  let host: WebHost | undefined;
  let closeBrowser: () => Promise<void>;
  let page: Page;

  beforeAll(async () => {
    base = tempDir('e2e-plan-screens', storeTempRoot());
    const store = join(base, 'store');
    const configDir = join(base, 'config');
    for (const name of ['Documents', 'Photos', 'Projects']) {
      mkdirSync(join(base, name), { recursive: true });
      writeFileSync(join(base, name, 'readme.txt'), `${name}\n`.repeat(500));
    }
    expect((await cairn(['init', store, '--sync', 'none'])).code).toBe(0);
    const book = new PlanBook(configDir);
    const day = 24 * 3600_000;
    const folder = (name: string) => [{ kind: 'folder' as const, path: join(base, name) }];
    // Made days ago: due at once, so the scheduler runs it (or finds its drive missing) when the host starts.
    book.add(
      {
        name: 'Documents',
        sources: folder('Documents'),
        store,
        excludePresets: ['caches', 'trash', 'node-modules'],
        schedule: { kind: 'interval', every: 1, unit: 'hours' },
        retention: { keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 6 },
        maintenance: { gcEveryDays: 7, verifyNew: true, fullVerifyEveryDays: 30 },
      },
      Date.now() - 2 * day,
    );
    book.add(
      { name: 'Projects on the USB drive', sources: folder('Projects'), store: join(base, 'usb', 'store') },
      Date.now() - 2 * day,
    );
    book.add(
      {
        name: 'Photos',
        sources: folder('Photos'),
        store,
        schedule: { kind: 'weekly', days: ['sat'], at: '10:00' },
        retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
      },
      Date.now() - 60_000,
    );
    book.add(
      { name: 'Old laptop disk', sources: [{ kind: 'image', path: join(base, 'laptop.img') }], store, paused: true },
      Date.now() - 60_000,
    );
    host = await startWebHost(['--allow', base, '--data-dir', join(base, 'app-data')], {
      CAIRN_CONFIG_DIR: configDir,
    });
    let context: BrowserContext;
    ({ context, close: closeBrowser } = await launchChromium());
    page = await context.newPage();
  }, 60_000);

  afterAll(async () => {
    await closeBrowser?.();
    await host?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('lists the plans, shows one in full and the editor, nothing cut', async () => {
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.goto(host!.url);
    await plansButton(page).click();
    await page
      .getByRole('listitem', { name: 'Plan Documents' })
      .locator('[data-state="ok"]')
      .waitFor({ timeout: 30_000 });
    await page
      .getByRole('listitem', { name: 'Plan Projects on the USB drive' })
      .getByText('Waiting: drive not connected')
      .waitFor();
    for (const [width, height] of [
      [1024, 700],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        const size = `${width}x${height}-${scheme}`;
        expect(await page.evaluate(cutOrOverflowing, '.plans-view'), `list ${size}`).toEqual([]);
        await page.screenshot({ path: screenshotPath(`plans-list-${size}`) });

        await page.getByRole('listitem', { name: 'Plan Photos' }).getByRole('button', { name: 'Edit…' }).click();
        const editor = page.getByRole('dialog', { name: 'Edit plan “Photos”' });
        await editor.getByLabel('Schedule preview').getByText('Runs Sat at 10:00.').waitFor();
        expect(await page.evaluate(cutOrOverflowing, 'dialog'), `editor ${size}`).toEqual([]);
        await page.screenshot({ path: screenshotPath(`plans-editor-${size}`) });
        await editor.getByRole('group', { name: 'Off-site copy' }).scrollIntoViewIfNeeded();
        await editor.getByText('No remotes yet', { exact: false }).waitFor();
        await page.screenshot({ path: screenshotPath(`plans-editor-offsite-${size}`) });
        await editor.getByRole('button', { name: 'Cancel' }).click();

        await page
          .getByRole('listitem', { name: 'Plan Documents' })
          .getByRole('button', { name: 'History and details' })
          .click();
        await page.getByRole('table', { name: 'Run history' }).getByText('Succeeded').first().waitFor();
        expect(await page.evaluate(cutOrOverflowing, '.plans-view'), `details ${size}`).toEqual([]);
        await page.screenshot({ path: screenshotPath(`plans-details-${size}`) });
        await page.getByRole('button', { name: '← All plans' }).click();
      }
    }
  });
});
