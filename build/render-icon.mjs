// Renders build/icon.svg to build/icon.png (1024×1024, transparent corners) with Debian's Chromium.
// electron-builder derives every platform's icon (.icns, .ico, Linux sizes) from that PNG.
// Run after changing the SVG: node build/render-icon.mjs
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const here = new URL('.', import.meta.url).pathname;
const profile = mkdtempSync(join(tmpdir(), 'cairn-icon-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu'],
  viewport: { width: 1024, height: 1024 },
});
const page = await context.newPage();
await page.setContent(
  `<html><body style="margin:0;background:transparent">${readFileSync(join(here, 'icon.svg'), 'utf8')}</body></html>`,
);
await page.locator('svg').screenshot({ path: join(here, 'icon.png'), omitBackground: true });
await context.close();
rmSync(profile, { recursive: true, force: true });
