import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Datastore } from '../../core/datastore/datastore.js';
import { launchChromium, shootEverySize, startWebHost, watchConsole, type WebHost } from '../support/browser.js';
import { createBucket, startCephGateway, type CephGateway } from '../support/ceph.js';
import { pseudoRandomBytes } from '../support/data.js';
import { cairn } from '../support/processes.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

const shoot = (page: Page, name: string) => shootEverySize(page, `remotes-${name}`);

/**
 * Off-site copies as a new user meets them in browser mode, against a real Ceph object gateway: a remote added in
 * Remotes (its check passes), a group pushed from its pane, its snapshot listed under "Remote: offsite", browsed
 * there and a file restored from it, then pulled into a second store. The host's config and cache folders are
 * temp folders; the credentials are typed once.
 */
describe('remotes in browser mode, end to end in Chromium with a real S3 gateway', () => {
  let gw: CephGateway;
  let base = '';
  let host: WebHost | undefined;
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let page: Page;
  let bucket = '';
  const consoleErrors: string[] = [];
  const store = () => join(base, 'store');
  const second = () => join(base, 'second');

  beforeAll(async () => {
    gw = await startCephGateway();
    bucket = `cairn-e2e-${randomBytes(3).toString('hex')}`;
    await createBucket(gw, bucket);
    base = tempDir('remotes-e2e', storeTempRoot());
    const docs = join(base, 'Documents');
    mkdirSync(join(docs, 'letters'), { recursive: true });
    writeFileSync(join(docs, 'letters', 'to-ann.txt'), 'Dear Ann,\nthe rocks are fine.\n');
    writeFileSync(join(docs, 'letters', 'to-bob.txt'), 'Dear Bob,\n');
    writeFileSync(join(docs, 'photo.raw'), pseudoRandomBytes(6 * 1024 * 1024, 'remotes-e2e'));
    for (const s of [store(), second()]) expect((await cairn(['init', s, '--sync', 'none'])).code).toBe(0);
    expect((await cairn(['backup', store(), docs])).code).toBe(0);
    host = await startWebHost(['--allow', base, '--data-dir', join(base, 'app-data')], {
      CAIRN_CONFIG_DIR: join(base, 'config'),
      CAIRN_CACHE_DIR: join(base, 'cache'),
      CAIRN_S3_ACCESS_KEY_ID: '',
      CAIRN_S3_SECRET_ACCESS_KEY: '',
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
    });
    ({ context, close: closeBrowser } = await launchChromium());
    page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    watchConsole(page, consoleErrors);
  }, 240_000);

  afterAll(async () => {
    await closeBrowser?.();
    const code = await host?.stop();
    expect(code, host?.output()).toBe(0);
    await gw?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it('adds a remote in Remotes: the check passes, and only "credentials stored" comes back', async () => {
    await page.goto(host!.url);
    await page.getByLabel('Datastore folder', { exact: true }).fill(store());
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByRole('button', { name: 'Add a remote…' }).click();
    await page.getByText('No remotes yet.').waitFor();
    await page.getByRole('button', { name: 'Add a remote…' }).click();
    const form = page.getByRole('dialog', { name: 'Add a remote' });
    await form.getByLabel('Name').fill('offsite');
    await form.getByLabel('Endpoint').fill(gw.endpoint);
    await form.getByLabel('Region').fill(gw.region);
    await form.getByLabel('Bucket').fill(bucket);
    await form.getByLabel('Prefix').fill('laptop/');
    await form.getByLabel('Access key ID').fill(gw.accessKeyId);
    await form.getByLabel('Secret access key').fill(gw.secretAccessKey);
    await form.getByRole('button', { name: 'Check' }).click();
    await form.getByText(/^Everything Cairn needs works \(\d+ requests\)\.$/).waitFor({ timeout: 30_000 });
    expect(await form.getByRole('status', { name: 'Check result' }).getByRole('listitem').count()).toBe(5);
    await shoot(page, 'add');
    await form.getByRole('button', { name: 'Add remote' }).click();
    await form.waitFor({ state: 'detached' });
    const line = page.getByRole('listitem', { name: 'Remote offsite' });
    await line.getByText(/credentials stored in remote-credentials\.json/).waitFor();
    expect(await page.locator('body').innerText()).not.toContain(gw.secretAccessKey);
    await line.getByRole('button', { name: 'Check' }).click();
    await line.getByText(/^Everything Cairn needs works/).waitFor({ timeout: 30_000 });
    await shoot(page, 'list');
  }, 90_000);

  it('pushes a group from its pane; the job card says what was sent', async () => {
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await page
      .getByRole('option', { name: /Documents/ })
      .first()
      .click();
    const line = page.locator('.group-remote[data-remote="offsite"]');
    await line.getByText('offsite does not have it yet').waitFor({ timeout: 20_000 });
    await line.getByRole('button', { name: 'Push to offsite…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Push to remote' });
    await dialog.getByText(/Push host\/Documents to offsite/).waitFor();
    await dialog.getByRole('button', { name: 'Push', exact: true }).click();
    const card = page.locator('[data-job-kind="push"][data-status="done"]');
    await card.waitFor({ timeout: 60_000 });
    expect(await card.locator('.job-summary').textContent()).toMatch(
      /^Pushed 1 snapshot to offsite in .*: .*, \d+ chunks uploaded; \d+ requests$/,
    );
    await line.getByText('offsite has this snapshot too').waitFor({ timeout: 20_000 });
    await shoot(page, 'pushed');
  }, 90_000);

  it('lists the snapshot under "Remote: offsite", browses it there and restores a file from it', async () => {
    const remoteGroups = page.getByRole('listbox', { name: 'Groups on offsite' });
    await remoteGroups.getByRole('option', { name: /Documents/ }).click();
    const table = page.getByRole('table', { name: 'Snapshots of host/Documents on offsite' });
    const row = table.locator('tbody tr').first();
    await row.getByText('here and on offsite').waitFor();
    await shoot(page, 'snapshots');
    await row.getByRole('button', { name: 'Browse' }).click();
    const tree = page.getByRole('tree', { name: /on offsite$/ });
    await tree.getByRole('treeitem', { name: /letters/ }).waitFor({ timeout: 30_000 });
    await tree.getByRole('button', { name: 'Open letters' }).click();
    await tree.getByRole('treeitem', { name: /to-ann\.txt/ }).click();
    await page.getByRole('complementary', { name: 'Details' }).getByText('to-ann.txt').first().waitFor();
    await shoot(page, 'browse');
    await page.getByRole('button', { name: 'Download file to a folder…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore' });
    const target = join(base, 'from-offsite');
    await dialog.getByLabel('Restore into folder').fill(target);
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.locator('[data-job-kind="remote-restore"][data-status="done"]').waitFor({ timeout: 60_000 });
    expect(readFileSync(join(target, 'to-ann.txt'), 'utf8')).toBe('Dear Ann,\nthe rocks are fine.\n');
  }, 90_000);

  it('pulls the group into a second store, where it then is a local group too', async () => {
    await page.getByRole('button', { name: 'Switch datastore' }).click();
    await page.getByLabel('Datastore folder', { exact: true }).fill(second());
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    const remoteGroups = page.getByRole('listbox', { name: 'Groups on offsite' });
    const option = remoteGroups.getByRole('option', { name: /Documents/ });
    await option.getByText('1 snapshot · only there').waitFor({ timeout: 20_000 });
    await option.click();
    await page
      .getByRole('table', { name: /on offsite$/ })
      .getByText('only on offsite')
      .waitFor();
    await page.getByRole('button', { name: 'Pull group to this store…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Pull to this store' });
    await dialog.getByRole('button', { name: 'Pull', exact: true }).click();
    await page.locator('[data-job-kind="pull"][data-status="done"]').waitFor({ timeout: 60_000 });
    await option.getByText('1 snapshot · all here too').waitFor({ timeout: 20_000 });
    await page
      .getByRole('listbox', { name: 'Backup groups' })
      .getByRole('option', { name: /Documents/ })
      .waitFor();
    expect(Datastore.open(second()).listSnapshots({ type: 'host', id: 'Documents' })).toHaveLength(1);
    await shoot(page, 'pulled');
  }, 90_000);
});
