import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../contract/errors.js';
import type { FolderListing } from '../../contract/model.js';
import { HostService } from '../../host/host-service.js';
import { launchChromium, startWebHost, type WebHost } from '../support/browser.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

/**
 * The in-app folder browser (browser mode has no native dialog) shows hidden folders when asked, jumps to the
 * other places Cairn may use, and makes a new folder: it could do none of these, so a restore into a new folder
 * or a backup of ~/.config needed the path typed by hand.
 */
describe('the folder browser: hidden folders, places, a new folder', () => {
  let base = '';
  let other = '';
  let host: WebHost;
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let page: Page;

  beforeAll(async () => {
    base = tempDir('picker', storeTempRoot());
    other = tempDir('picker-other', storeTempRoot());
    mkdirSync(join(base, '.config', 'app'), { recursive: true });
    mkdirSync(join(base, 'Documents'));
    mkdirSync(join(other, 'Disk'));
    host = await startWebHost(['--allow', base, '--allow', other, '--data-dir', join(base, '.app-data')]);
    ({ context, close: closeBrowser } = await launchChromium());
    page = await context.newPage();
    await page.setViewportSize({ width: 1024, height: 700 });
  }, 60_000);

  afterAll(async () => {
    await closeBrowser?.();
    await host?.stop();
    for (const dir of [base, other]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('in Chromium: shows a hidden folder on request, jumps to another place, makes a folder and goes into it', async () => {
    await page.goto(host.url);
    const field = page.getByLabel('Datastore folder', { exact: true });
    await field.fill(base);
    await page.getByRole('button', { name: 'Browse…' }).first().click();
    const dialog = page.getByRole('dialog');
    const list = dialog.getByRole('list', { name: /^Folders in / });
    await list.getByRole('button', { name: 'Documents/' }).waitFor();
    expect(await list.getByRole('button', { name: '.config/' }).count()).toBe(0);
    await dialog.getByLabel('Show hidden folders').check();
    await list.getByRole('button', { name: '.config/' }).waitFor();

    await dialog.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: other }).click();
    await list.getByRole('button', { name: 'Disk/' }).waitFor();

    await dialog.getByRole('button', { name: 'New folder…' }).click();
    await dialog.getByLabel(/^New folder in /).fill('Restored here');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByRole('list', { name: `Folders in ${join(other, 'Restored here')}` }).waitFor();
    expect(existsSync(join(other, 'Restored here'))).toBe(true);

    // A name that exists is refused where it was typed, and the field stays for another try.
    await dialog.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: other }).click();
    await dialog.getByRole('button', { name: 'New folder…' }).click();
    await dialog.getByLabel(/^New folder in /).fill('Disk');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'already exists' }).waitFor();
    expect(await dialog.getByLabel(/^New folder in /).inputValue()).toBe('Disk');
    await dialog.getByRole('button', { name: 'Cancel the new folder' }).click();
    expect(await dialog.getByLabel(/^New folder in /).count()).toBe(0);
  });

  it('the host refuses a name that is not one plain name, and a parent outside the allowed places', async () => {
    const service = new HostService({
      platform: { host: 'web' },
      dataDir: join(base, '.svc-data'),
      allowedRoots: [base],
    });
    const make = (parent: string, name: string) =>
      service.handle('fs.make-folder', { parent, name }) as Promise<Result<FolderListing>>;
    for (const name of ['..', '.', 'a/b', 'a\\b']) {
      const r = await make(base, name);
      expect(r.ok ? 'made' : r.error.code, name).toBe('INVALID_NAME');
    }
    const outside = await make(other, 'x');
    expect(outside.ok ? 'made' : outside.error.code).toBe('PATH_NOT_ALLOWED');
    expect(existsSync(join(other, 'x'))).toBe(false);
    const made = await make(base, 'New');
    expect(made.ok && made.value.path).toBe(join(base, 'New'));
    const hidden = (await service.handle('fs.list', { path: base, hidden: true })) as Result<FolderListing>;
    expect(hidden.ok && hidden.value.folders.map((f) => f.name)).toContain('.config');
    expect(hidden.ok && hidden.value.places?.map((p) => p.path)).toEqual([base]);
    await service.shutdown();
  });
});
