import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAppInBrowser, shootEverySize, type AppInBrowser } from '../support/browser.js';
import { pseudoRandomBytes } from '../support/data.js';
import { cairn } from '../support/processes.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

const shoot = (page: Page, name: string) =>
  shootEverySize(page, `find-${name}`, ['dialog[open]', '.search-results', '.history-list']);

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 2, 9);

/**
 * A user who lost a file finds it by name, looks through its versions, reads an old one, and puts that one back
 * beside the file there now, in browser mode in Chromium. The group: notes/report.txt written, changed, deleted and
 * written again, one snapshot each.
 */
describe('finding a file and restoring an old version in place, end to end in Chromium', () => {
  let base = '';
  let source = '';
  let store = '';
  let app: AppInBrowser | undefined;
  let page: Page;
  const errors: string[] = [];
  let env: Record<string, string> = {};
  const report = () => join(source, 'notes', 'report.txt');
  const writeReport = (text: string, day: number) => {
    writeFileSync(report(), text);
    utimesSync(report(), new Date(T0 + day * DAY), new Date(T0 + day * DAY));
  };
  const backUp = async () => {
    const r = await cairn(['backup', store, source, '--id', 'Documents'], { env });
    expect(r.code, r.stderr).toBe(0);
  };

  beforeAll(async () => {
    base = tempDir('e2e-find', storeTempRoot());
    env = { CAIRN_CONFIG_DIR: join(base, 'config'), CAIRN_CACHE_DIR: join(base, 'cache') };
    source = join(base, 'Documents');
    store = join(base, 'store');
    mkdirSync(join(source, 'notes'), { recursive: true });
    mkdirSync(join(source, 'photos', '2026'), { recursive: true });
    writeFileSync(join(source, 'photos', '2026', 'harbour.raw'), pseudoRandomBytes(300_000, 'harbour'));
    writeFileSync(join(source, 'notes', 'reports-index.md'), '# Reports\n');
    writeFileSync(join(source, 'notes', 'groceries.txt'), 'milk\n');
    expect((await cairn(['init', store, '--sync', 'none'], { env })).code).toBe(0);
    writeReport('Quarterly report, first draft.\nSales went up.\n', 1);
    await backUp();
    writeReport('Quarterly report, second draft.\nSales went up by 4%.\n', 2);
    await backUp();
    rmSync(report());
    await backUp();
    writeReport('Quarterly report, started again.\n', 4);
    await backUp();
    app = await openAppInBrowser(base, [], env);
    page = app.page;
    await page.setViewportSize({ width: 1280, height: 800 });
    page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
  }, 90_000);

  afterAll(async () => {
    const code = await app?.close();
    expect(code, app?.host.output()).toBe(0);
    if (base) rmSync(base, { recursive: true, force: true });
    expect(errors).toEqual([]);
  }, 60_000);

  it('searches the group by name: the matches stream in with their snapshot, size and time', async () => {
    await page.goto(app!.host.url);
    await page.getByLabel('Datastore folder', { exact: true }).fill(store);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page
      .getByRole('option', { name: /Documents/ })
      .first()
      .click();
    await page.getByRole('button', { name: 'Search files…' }).click();
    await page.getByRole('search', { name: 'Search files' }).getByLabel('Name').fill('report');
    const matches = page.getByRole('list', { name: 'Matches' });
    await matches.getByRole('listitem', { name: 'notes/report.txt' }).waitFor({ timeout: 20_000 });
    await page.getByRole('status').getByText('2 matches in 4 snapshots').waitFor({ timeout: 20_000 });
    await matches.getByRole('listitem', { name: 'notes/reports-index.md' }).waitFor();
    await shoot(page, 'search');
  }, 90_000);

  it('shows a match in its snapshot, opened at it', async () => {
    await page.getByRole('button', { name: 'Show notes/report.txt in its snapshot' }).click();
    const tree = page.getByRole('tree');
    await tree.locator('.tree-row.active').getByText('report.txt').waitFor({ timeout: 20_000 });
    await page.getByRole('complementary', { name: 'Details' }).getByText('notes/report.txt').waitFor();
    await shoot(page, 'show');
    await page.getByRole('button', { name: '← Search results' }).click();
    await page.getByRole('list', { name: 'Matches' }).getByRole('listitem').first().waitFor();
  }, 60_000);

  it('opens the history: every version, the deletion between them', async () => {
    await page.getByRole('button', { name: 'History of notes/report.txt' }).click();
    const dialog = page.getByRole('dialog', { name: 'History of notes/report.txt' });
    const versions = dialog.getByRole('list', { name: 'Versions' }).getByRole('listitem');
    await versions.nth(3).waitFor({ timeout: 20_000 });
    expect(await versions.count()).toBe(4);
    expect(await versions.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')!.split(':')[0]))).toEqual([
      'Changed',
      'Not there',
      'Changed',
      'First version',
    ]);
    await shoot(page, 'history');
  }, 60_000);

  it('previews the second draft as text, over the history', async () => {
    const dialog = page.getByRole('dialog', { name: 'History of notes/report.txt' });
    await dialog.getByRole('listitem').nth(2).getByRole('button', { name: 'Preview' }).click();
    const preview = page.getByRole('dialog', { name: 'Preview of report.txt' });
    await preview.getByLabel('Text').getByText('Sales went up by 4%.').waitFor({ timeout: 20_000 });
    await shoot(page, 'preview');
    await preview.getByRole('button', { name: 'Close', exact: true }).click();
    await preview.waitFor({ state: 'detached' });
    await dialog.waitFor();
  }, 60_000);

  it('restores the first draft in place with keep both: the file there now stays, the old one lands beside it', async () => {
    const history = page.getByRole('dialog', { name: 'History of notes/report.txt' });
    await history.getByRole('listitem').nth(3).getByRole('button', { name: 'Restore…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore to the original place' });
    const counts = dialog.getByRole('list', { name: 'What the restore does' });
    await counts.getByText('changed there since the backup: left alone').waitFor({ timeout: 20_000 });
    expect(await dialog.getByRole('button', { name: /^Restore/ }).isDisabled()).toBe(true);
    await dialog
      .getByText('Files there that the snapshot does not hold (made since the backup) are left alone')
      .waitFor();
    await dialog.getByLabel('Keep both', { exact: false }).check();
    await dialog.getByLabel(/Also for the file changed there since this backup/).check();
    await counts.getByText('kept, with the backed-up version put beside').waitFor({ timeout: 20_000 });
    await dialog
      .getByRole('list', { name: 'Files' })
      .getByText(/report \(restored \d{4}-\d\d-\d\d\)\.txt/)
      .waitFor();
    await shoot(page, 'in-place');
    await dialog.getByRole('button', { name: 'Restore 1 file' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('[data-job-kind="restore-in-place"][data-status="done"]').waitFor({ timeout: 60_000 });
    const day = new Date().toISOString().slice(0, 10);
    expect(readFileSync(join(source, 'notes', `report (restored ${day}).txt`), 'utf8')).toBe(
      'Quarterly report, first draft.\nSales went up.\n',
    );
    expect(readFileSync(report(), 'utf8')).toBe('Quarterly report, started again.\n');
  }, 90_000);
});
