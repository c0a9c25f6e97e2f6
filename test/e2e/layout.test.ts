import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Datastore } from '../../core/datastore/datastore.js';
import {
  type AppInBrowser,
  openAppInBrowser,
  openSnapshotRow,
  screenshotPath,
  type WebHost,
} from '../support/browser.js';
import { cairn } from '../support/processes.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

const DEEP = ['.config', 'deep', 'nested', 'folder', 'structure', 'with', 'long', 'names'];
const DEEP_FILE = 'a-rather-long-file-name-for-testing.txt';
// No hyphen or space to break at: names like this must still wrap, not run under the next panel.
const LONG_ID = 'SummerHolidayPhotosFromItaly2026';

/**
 * Everything the user can act on or read, under `root`, that cannot be reached: after scrolling it into view
 * (horizontal scrolling included), it is outside the window, clipped by a box around it, covered by another
 * element (the Tasks panel), or its text is cut. Fields, and cells styled to end in an ellipsis (with a tooltip), may
 * hold more than they show.
 * Runs in the page.
 */
function unreachable(root: string): string[] {
  const problems: string[] = [];
  const label = (el: Element | null) =>
    el
      ? `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''} "${(el.textContent ?? '').trim().slice(0, 40)}"`
      : 'nothing';
  const selector = [
    'button',
    'select',
    'input',
    'textarea',
    '[role=columnheader]',
    '[role=gridcell]',
    '[role=option] > *',
    '.tree-name',
    'h2',
    'h3',
    '.job-card header > *',
    '.job-card p',
  ]
    .map((s) => `${root} ${s}`)
    .join(', ');
  for (const el of document.querySelectorAll<HTMLElement>(selector)) {
    if (!el.checkVisibility({ visibilityProperty: true })) continue;
    el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue; // an empty cell: nothing to see
    if (r.left < -0.5 || r.top < -0.5 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5)
      problems.push(`${label(el)} is outside the window`);
    for (let box = el.parentElement; box; box = box.parentElement) {
      const style = getComputedStyle(box);
      const b = box.getBoundingClientRect();
      const clipsX = style.overflowX !== 'visible' && (r.left < b.left - 0.5 || r.right > b.right + 0.5);
      const clipsY = style.overflowY !== 'visible' && (r.top < b.top - 0.5 || r.bottom > b.bottom + 0.5);
      if (clipsX || clipsY) problems.push(`${label(el)} is clipped by ${label(box)}`);
    }
    const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    if (!hit || !el.contains(hit)) problems.push(`${label(el)} is covered by ${label(hit)}`);
    const scrollsByDesign = el.matches('input, select, textarea, .ellipsis');
    if (!scrollsByDesign && el.scrollWidth > el.clientWidth + 1) problems.push(`${label(el)} has its text cut`);
  }
  return problems;
}

/** The side-by-side panels of the window, left to right, overlap nowhere and leave no empty strip. */
function panelProblems(): string[] {
  const panels = [...document.querySelectorAll('.app-body > *, .store-panes > *')].map((el) => ({
    el,
    r: el.getBoundingClientRect(),
  }));
  const problems: string[] = [];
  const body = document.querySelector('.app-body')!.getBoundingClientRect();
  const tasks = document.querySelector('.tasks')!.getBoundingClientRect();
  if (Math.abs(tasks.right - body.right) > 1)
    problems.push(`an empty strip of ${body.right - tasks.right}px beside Tasks`);
  for (const a of panels) {
    for (const b of panels) {
      if (a === b || a.el.contains(b.el) || b.el.contains(a.el)) continue;
      const overlap = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      if (overlap > 1 && Math.min(a.r.bottom, b.r.bottom) > Math.max(a.r.top, b.r.top))
        problems.push(`${a.el.className} overlaps ${b.el.className} by ${overlap}px`);
    }
  }
  if (document.documentElement.scrollWidth > innerWidth)
    problems.push(`the page is ${document.documentElement.scrollWidth - innerWidth}px wider than the window`);
  return problems;
}

describe('the window is usable from 1024×700 to 1920×1080, in Chromium', () => {
  let base: string;
  let storePath: string;
  let app: AppInBrowser | undefined;
  let host: WebHost;
  let page: Page;

  const run = async (args: string[]) => {
    const r = await cairn(args);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  const expectReachable = async (root: string, where: string) => {
    expect(await page.evaluate(unreachable, root), where).toEqual([]);
    expect(await page.evaluate(panelProblems), where).toEqual([]);
  };

  beforeAll(async () => {
    base = tempDir('e2e-layout', storeTempRoot());
    storePath = join(base, 'store');
    const home = join(base, 'home');
    mkdirSync(join(home, ...DEEP), { recursive: true });
    writeFileSync(join(home, ...DEEP, DEEP_FILE), 'deep\n');
    for (let i = 0; i < 20; i++) writeFileSync(join(home, `file-${i}.txt`), `${i}\n`);
    mkdirSync(join(base, LONG_ID));
    writeFileSync(join(base, LONG_ID, 'img.jpg'), 'jpeg');
    await run(['init', storePath]);
    for (let i = 0; i < 3; i++) {
      await sleep(1100); // snapshot times are whole seconds
      await run(['backup', storePath, home, '--id', 'home']);
    }
    await run(['backup', storePath, join(base, LONG_ID), '--id', LONG_ID]);
    writeFileSync(join(base, 'disk.img'), Buffer.alloc(256 * 1024, 7));
    await run(['backup-image', storePath, join(base, 'disk.img'), '--id', 'disk']);
    // What a cancelled first backup leaves: a group without snapshots.
    Datastore.open(storePath).beginSnapshot({ type: 'host', id: 'cancelled' }).abort();
    const [oldest] = JSON.parse(await run(['snapshots', storePath, 'host/home', '--json'])) as { path: string }[];
    await run(['notes', storePath, oldest!.path, '--set', 'before moving the photos to the new disk']);
    app = await openAppInBrowser(base);
    ({ host, page } = app);
  }, 60_000);

  afterAll(async () => {
    const code = await app?.close();
    expect(code, app?.host.output()).toBe(0);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  for (const [width, height] of [
    [1024, 700],
    [1280, 800],
    [1920, 1080],
  ] as const) {
    it(`at ${width}×${height}, every control and column can be seen and reached, none hides under another panel`, async () => {
      const size = `${width}x${height}`;
      await page.setViewportSize({ width, height });
      await page.goto(host.url);
      await page.getByRole('heading', { name: 'Create a datastore' }).waitFor();
      await expectReachable('.app', `${size} start page`);

      await page.getByLabel('Datastore folder', { exact: true }).fill(storePath);
      await page.getByRole('button', { name: 'Open', exact: true }).click();
      await page.getByRole('option', { name: /home/ }).click();
      const rows = page.locator('[role="grid"] [data-snapshot]');
      await rows.nth(2).waitFor({ timeout: 20_000 });
      // Finished jobs in Tasks, one titled with a long path: their cards are part of the layout too (jobs outlive a reload).
      if ((await page.locator('[data-job-kind="verify"]').count()) === 0) {
        await page.getByRole('button', { name: 'Verify group' }).click();
        await page.locator('[data-job-kind="verify"][data-status="done"]').waitFor({ timeout: 30_000 });
        await page.getByRole('button', { name: 'Back up a folder…' }).click();
        await page.getByLabel('Folder to back up').fill(join(base, LONG_ID));
        await page.getByLabel('Backup group id').fill(LONG_ID);
        await page.getByRole('button', { name: 'Start backup' }).click();
        await page.locator('[data-job-kind="backup"][data-status="done"]').waitFor({ timeout: 30_000 });
      }
      await rows.nth(2).click();
      await page.screenshot({ path: screenshotPath(`layout-${size}-snapshots`) });
      await expectReachable('.app', `${size} snapshots table`);

      await page.getByRole('button', { name: 'Back up a folder…' }).click();
      await page.getByRole('dialog').waitFor();
      await expectReachable('dialog[open]', `${size} backup dialog`);
      await page.keyboard.press('Escape');

      await openSnapshotRow(page, rows.first());
      for (const folder of DEEP) await page.getByRole('button', { name: `Open ${folder}`, exact: true }).click();
      await page.locator(`[data-path="${DEEP.join('/')}/${DEEP_FILE}"]`).click();
      await page.screenshot({ path: screenshotPath(`layout-${size}-browser`) });
      await expectReachable('.app', `${size} snapshot browser`);

      await page.getByRole('button', { name: 'Restore everything…' }).click();
      await expectReachable('dialog[open]', `${size} restore dialog`);
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: '← Snapshots' }).click();

      await page.getByRole('button', { name: 'Delete group…' }).click();
      await expectReachable('dialog[open]', `${size} delete group dialog`);
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: 'Back up a disk image…' }).click();
      await expectReachable('dialog[open]', `${size} image backup dialog`);
      await page.keyboard.press('Escape');

      // An image snapshot's actions and restore dialog, and an empty group with its note.
      await page.getByRole('option', { name: /disk/ }).click();
      await page.locator('[role="grid"] [data-snapshot^="host/disk/"]').click();
      await page.screenshot({ path: screenshotPath(`layout-${size}-image`) });
      await expectReachable('.app', `${size} image snapshot`);
      await page.getByRole('button', { name: 'Restore image…' }).click();
      await expectReachable('dialog[open]', `${size} image restore dialog`);
      await page.keyboard.press('Escape');
      await page.getByRole('option', { name: /cancelled/ }).click();
      await page.getByText('This group has no snapshots').waitFor();
      await expectReachable('.app', `${size} empty group`);
    });
  }
});
