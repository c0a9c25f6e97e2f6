import { constants, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LEFT_OUT_NAMED, LeftOut } from '../../../core/archive/left-out.js';
import { MemoryLogger } from '../../../core/log.js';

/** The error a real read gives, not one made up: reading a path that is not there, or one under a file. */
function readError(path: string): unknown {
  try {
    readFileSync(path);
  } catch (err) {
    return err;
  }
  throw new Error(`${path} could be read`);
}

describe('LeftOut: the entries a backup could not take', () => {
  it('counts a read that failed, and only logs an entry that vanished or whose folder became a file', () => {
    const log = new MemoryLogger();
    const leftOut = new LeftOut(log);
    leftOut.failedRead('docs/gone.txt', readError('/nonexistent-cairn-test/gone.txt'));
    leftOut.failedRead('docs/under-file', readError('/etc/hostname/under'));
    expect(leftOut.count).toBe(0);
    expect(log.warnings()).toEqual([
      'skipped docs/gone.txt: it vanished during the backup',
      'skipped docs/under-file: it vanished during the backup',
    ]);
    leftOut.failedRead('docs/dir', readError('/etc'));
    expect(leftOut.count).toBe(1);
    expect(leftOut.named).toEqual([{ path: 'docs/dir', reason: 'it is a folder' }]);
  });

  it('only logs an entry that changed kind (a file now a symlink), and names a folder as a path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-left-out-'));
    try {
      symlinkSync('/etc/hostname', join(dir, 'now-a-link'));
      let eloop: unknown;
      try {
        openSync(join(dir, 'now-a-link'), constants.O_RDONLY | constants.O_NOFOLLOW);
      } catch (err) {
        eloop = err;
      }
      const log = new MemoryLogger();
      const leftOut = new LeftOut(log);
      leftOut.failedRead('docs/now-a-link', eloop);
      expect(leftOut.count).toBe(0);
      expect(log.warnings()).toEqual(['skipped docs/now-a-link: it changed kind during the backup']);
      leftOut.failedRead('docs/sub', readError('/etc'), true);
      expect(log.warnings()[1]).toBe('skipped folder docs/sub: it is a folder');
      expect(leftOut.named).toEqual([{ path: 'docs/sub/', reason: 'it is a folder' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the first LEFT_OUT_NAMED entries and counts every one', () => {
    const log = new MemoryLogger();
    const leftOut = new LeftOut(log);
    for (let i = 0; i < LEFT_OUT_NAMED + 5; i++) leftOut.add(`f${i}`, 'the name cannot be stored');
    expect(leftOut.count).toBe(LEFT_OUT_NAMED + 5);
    expect(leftOut.named).toHaveLength(LEFT_OUT_NAMED);
    expect(log.warnings()).toHaveLength(LEFT_OUT_NAMED + 5);
  });
});
