import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/cli/usage-error.js';
import { parseWebArgs } from '../../web/web-args.js';
import { startWebHost } from '../support/browser.js';
import { useTempDirs } from '../support/temp.js';

const WEB_MAIN = resolve(import.meta.dirname, '..', '..', 'dist', 'web', 'main.js');

describe("browser mode's command line", () => {
  const temp = useTempDirs();

  it('takes its options, and refuses a wrong one as a usage error', () => {
    expect(parseWebArgs(['--port', '8080', '--allow', '/srv/a', '--allow', '/srv/b'])).toEqual({
      port: 8080,
      allow: ['/srv/a', '/srv/b'],
      allowOnly: false,
      newKey: false,
      help: false,
    });
    expect(parseWebArgs(['--allow-only', '/srv/a'])).toMatchObject({ allow: ['/srv/a'], allowOnly: true });
    const refused: [string[], RegExp][] = [
      [['--alow', '/srv'], /^unknown option --alow/],
      [['--port', 'http'], /^--port takes a port from 1 to 65535, not "http"$/],
      [['--port', '70000'], /--port takes a port/],
      [['--port'], /^--port needs a value/],
      [['--new-key=yes'], /^--new-key takes no value$/],
      [['/srv/data'], /^browser mode takes no argument "\/srv\/data"$/],
      [['--allow', ''], /empty folder/],
      [['--allow', '/a', '--allow-only', '/b'], /give one of them/],
    ];
    for (const [args, message] of refused) {
      expect(() => parseWebArgs(args), args.join(' ')).toThrow(UsageError);
      expect(() => parseWebArgs(args)).toThrow(message);
    }
  });

  it('exits 2 with the reason on a wrong flag, and starts nothing', async () => {
    const dir = temp('web-args');
    const child = spawn(process.execPath, [WEB_MAIN, '--allow-onyl', dir, '--data-dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    expect(code).toBe(2);
    expect(out).toBe(
      'cairn web: error: unknown option --allow-onyl (an argument that starts with "-" goes after "--")\n' +
        '(npm run web -- --help says what it takes)\n',
    );
  });

  it('--allow-only limits the app to the folders given', async () => {
    const dir = realpathSync(temp('web-only'));
    const host = await startWebHost(['--allow-only', join(dir), '--data-dir', join(dir, 'data')]);
    try {
      expect(host.output()).toContain(`Cairn may use folders under: ${dir}\n`);
    } finally {
      await host.stop();
    }
  });
});
