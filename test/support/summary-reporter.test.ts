import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the closing line of npm test', () => {
  it('counts the tests of a suite that failed to start as failed, not skipped', () => {
    const r = spawnSync(
      process.execPath,
      [
        join(repo, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--config',
        join(repo, 'test/support/fixtures/vitest.fixture.config.ts'),
      ],
      { cwd: repo, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('1 passed, 2 failed, 1 skipped');
  });
});
