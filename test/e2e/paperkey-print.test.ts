import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { createKey } from '../../core/crypto/key-file.js';
import { paperKey, paperKeyData } from '../../core/crypto/paper-key.js';
import { launchChromium } from '../support/browser.js';
import { decodeQrPng } from '../support/qr.js';
import { useSuiteTempDir } from '../support/temp.js';

/** The HTML paper key as it would be printed: Chromium renders it for print, and the QR code in the picture scans. */
describe('the HTML paper key in a browser', () => {
  const dir = useSuiteTempDir('paperkey');
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;

  beforeAll(async () => {
    ({ context, close: closeBrowser } = await launchChromium());
  }, 60_000);
  afterAll(async () => closeBrowser?.());

  it('shows the key file as text, and its QR code reads back as that text', async () => {
    const { config } = await createKey({ kdf: 'scrypt', passphrase: Buffer.from('on paper'), hint: 'the <usual> one' });
    const file = join(dir(), 'paper.html');
    writeFileSync(file, await paperKey(config, 'html'));
    const page = await context.newPage();
    await page.emulateMedia({ media: 'print' });
    await page.goto(pathToFileURL(file).href);
    const data = paperKeyData(config);
    expect(await page.locator('pre').innerText()).toContain(data);
    expect(await page.locator('body').innerText()).toContain('Passphrase hint: the <usual> one');
    const qr = page.locator('.qr');
    const box = await qr.boundingBox();
    expect(box!.width).toBeGreaterThan(400); // 12 cm at 96 dpi: big enough to scan from paper
    expect(decodeQrPng(await qr.screenshot())).toBe(data);
    await page.close();
  });
});
