import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { tempDir } from './temp.js';

export const CHROMIUM = process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = resolve(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots');
const WEB_MAIN = resolve(import.meta.dirname, '..', '..', 'dist', 'web', 'main.js');

/** Debian's Chromium, headless, with a fresh profile (its --user-data-dir) that is removed on close. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = tempDir('chromium');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1360, height: 820 },
    colorScheme: 'light',
    acceptDownloads: true,
  });
  for (const page of context.pages()) retryScreenshots(page);
  context.on('page', retryScreenshots);
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Headless Chromium now and then answers a screenshot with "Unable to capture screenshot" (a frame not produced
 * yet, under load; chromium bug 714058): a screenshot is tried again a few times before that fails the test.
 */
function retryScreenshots(page: Page): void {
  const shoot = page.screenshot.bind(page);
  page.screenshot = async (options) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await shoot(options);
      } catch (err) {
        if (attempt >= 3 || !/Unable to capture screenshot/.test(String(err))) throw err;
        await page.waitForTimeout(250 * attempt);
      }
    }
  };
}

/** Collects the page's uncaught errors and its console errors and warnings into `errors` (a test expects none). */
export function watchConsole(page: Page, errors: string[]): void {
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
}

export interface WebHost {
  url: string;
  origin: string;
  token: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

/**
 * `node dist/web/main.js` as `npm run web` starts it, on a free port, with the URL read from its output. `env`
 * adds to the environment. The host's plans and scheduler are never the user's (testConfigDir).
 */
export async function startWebHost(
  args: string[],
  env: Record<string, string> = {},
  /** Run as this user (the tests run as root, who reads a file of mode 000). */
  user?: { uid: number; gid: number },
): Promise<WebHost> {
  const child = spawn(process.execPath, [WEB_MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CAIRN_CONFIG_DIR: testConfigDir(args), ...env },
    ...user,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL from the web host:\n${out}`)), 20_000);
    const check = () => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`web host exited (${code}):\n${out}`));
    });
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token')!,
    process: child,
    output: () => out,
    stop: () =>
      new Promise((resolveExit) => {
        if (child.exitCode !== null) return resolveExit(child.exitCode);
        child.once('exit', (code) => resolveExit(code));
        child.kill('SIGINT');
      }),
  };
}

/**
 * Browser mode runs the user's scheduler from the config folder: a test's host gets one of its own (beside its
 * --data-dir, so a restarted host finds its plans again), never the real ~/.config/cairn.
 */
function testConfigDir(args: string[]): string {
  if (process.env.CAIRN_CONFIG_DIR) return process.env.CAIRN_CONFIG_DIR;
  const dataDir = args[args.indexOf('--data-dir') + 1];
  return args.includes('--data-dir') && dataDir ? join(dataDir, 'config') : tempDir('web-config');
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, `${name}.png`);
}

const SCREEN_SIZES = [
  [1024, 700],
  [1920, 1080],
] as const;

/**
 * Screenshots of what is on screen now at 1024×700 and 1920×1080, light and dark (`<name>-<w>x<h>-<scheme>.png`),
 * failing first if the page, or an element `scrollers` selects, scrolls sideways. Leaves 1280×800, light.
 */
export async function shootEverySize(page: Page, name: string, scrollers: readonly string[] = []): Promise<void> {
  for (const [width, height] of SCREEN_SIZES) {
    await page.setViewportSize({ width, height });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const wide = await page.evaluate(
        (selectors) =>
          [document.documentElement, ...selectors.flatMap((s) => [...document.querySelectorAll(s)])]
            .filter((e) => e.scrollWidth > e.clientWidth + 1)
            .map((e) => `${e.tagName}.${e.className}: ${e.scrollWidth} > ${e.clientWidth}`),
        [...scrollers],
      );
      if (wide.length > 0) throw new Error(`${name} at ${width}x${height} scrolls sideways: ${wide.join('; ')}`);
      await page.screenshot({ path: screenshotPath(`${name}-${width}x${height}-${scheme}`) });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'light' });
}

export interface AppInBrowser {
  host: WebHost;
  context: BrowserContext;
  page: Page;
  /** Closes the browser and stops the host; its exit code (0: it stopped cleanly). */
  close(): Promise<number | null>;
}

/** The app as a user opens it: browser mode on `base` (allowed, its data folder inside) and one Chromium page. */
export async function openAppInBrowser(
  base: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
  /** The host runs as this user (startWebHost). */
  user?: { uid: number; gid: number },
): Promise<AppInBrowser> {
  const host = await startWebHost(['--allow', base, '--data-dir', join(base, 'app-data'), ...extraArgs], env, user);
  const browser = await launchChromium();
  const page = await browser.context.newPage();
  return {
    host,
    context: browser.context,
    page,
    close: async () => {
      await browser.close();
      return host.stop();
    },
  };
}

/**
 * Opens a snapshot from its row by double-clicking it, as a user does, and again if the browser did not open: a
 * double click that lands while the table moves (a live update re-laying the page) is lost, and a user clicks again.
 */
export async function openSnapshotRow(page: Page, row: Locator): Promise<void> {
  const back = page.getByRole('button', { name: '← Snapshots' });
  for (let attempt = 1; ; attempt++) {
    await row.dblclick();
    try {
      await back.waitFor({ timeout: 5_000 });
      return;
    } catch (err) {
      if (attempt >= 3 || (await back.isVisible())) throw err;
    }
  }
}
