import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { electronBinary } from '../../electron/launch.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

describe("npm start without Electron's binary", () => {
  it.skipIf(electronBinary(ROOT) !== undefined)(
    'says why and starts browser mode instead, which stops cleanly on Ctrl-C',
    async () => {
      const child = spawn(process.execPath, [resolve(ROOT, 'dist', 'electron', 'launch.js')], {
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own data and config folders: browser mode runs the user's scheduler, which must not be the real one.
        env: {
          ...process.env,
          CAIRN_DATA_DIR: resolve(ROOT, 'dist', 'launch-test-data'),
          CAIRN_CONFIG_DIR: resolve(ROOT, 'dist', 'launch-test-config'),
        },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      await new Promise<void>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`no URL within 20 s:\n${out}`)), 20_000);
        child.stdout.on('data', () => {
          if (/http:\/\/127\.0\.0\.1:\d+\/\?token=/.test(out)) {
            clearTimeout(timer);
            done();
          }
        });
      });
      expect(out).toContain("Electron's binary is not installed here");
      expect(out).toContain('browser mode');
      const url = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out)![1]!;
      expect((await fetch(url)).status).toBe(200);
      const code = await new Promise<number | null>((done) => {
        child.once('exit', done);
        child.kill('SIGINT');
      });
      expect(code).toBe(0);
    },
  );
});
