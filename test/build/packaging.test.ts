import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Configuration } from 'electron-builder';
import config from '../../build/electron-builder.config.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);

/** electron-builder's own loader and schema check, run on our config without packaging anything. */
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  getConfig(projectDir: string, configPath: string | null, fromOptions: null): Promise<Configuration>;
  validateConfiguration(configuration: Configuration, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

describe('the electron-builder configuration', () => {
  it('loads the way `electron-builder --config build/electron-builder.config.ts` does, and passes its schema', async () => {
    const loaded = await getConfig(ROOT, resolve(ROOT, 'build', 'electron-builder.config.ts'), null);
    expect(loaded.appId).toBe(config.appId);
    await validateConfiguration(loaded, new DebugLogger(false));
    // The check is real: a misspelt option is refused.
    await expect(
      validateConfiguration(
        { ...loaded, linux: { ...loaded.linux, targets: ['deb'] } as Configuration['linux'] },
        new DebugLogger(false),
      ),
    ).rejects.toThrow(/configuration.linux should be/);
  });

  it('builds every target the app ships on, with every fuse set', () => {
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('points at files that exist: the icon, and what npm run build makes', () => {
    const icon = readFileSync(resolve(ROOT, 'build', 'icon.png'));
    expect(icon.subarray(1, 4).toString()).toBe('PNG');
    expect(icon.readUInt32BE(16)).toBeGreaterThanOrEqual(512); // width: electron-builder needs 512+ for every platform
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { main: string };
    for (const built of [
      pkg.main,
      'dist/electron/preload.cjs',
      'dist/renderer/index.html',
      'dist/host/job-worker.js',
    ]) {
      expect(existsSync(resolve(ROOT, built)), `${built} (run npm run build)`).toBe(true);
    }
  });

  it('packages the tray icons: three states, 16 px and 32 px for HiDPI', () => {
    expect(config.files).toContain('electron/assets/*.png');
    for (const state of ['idle', 'running', 'attention']) {
      for (const [name, size] of [
        [`tray-${state}.png`, 16],
        [`tray-${state}@2x.png`, 32],
      ] as const) {
        const png = readFileSync(resolve(ROOT, 'electron', 'assets', name));
        expect(png.subarray(1, 4).toString(), name).toBe('PNG');
        expect([png.readUInt32BE(16), png.readUInt32BE(20)], name).toEqual([size, size]);
      }
    }
  });
});
