import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EntryKind, type DirectoryEntry } from '../../../core/archive/archive-format.js';
import { FolderAttributes } from '../../../core/archive/folder-attributes.js';
import { HeldDirectories } from '../../../core/fs/held-directories.js';
import { MemoryLogger } from '../../../core/log.js';
import { useTempDirs } from '../../support/temp.js';

const T = 1_600_000_000_123_456_789n;

function folder(name: string, mode: number, mtimeNs: bigint): DirectoryEntry {
  return {
    kind: EntryKind.Directory,
    name: Buffer.from(name),
    mode,
    uid: 0,
    gid: 0,
    mtimeNs,
    recordOffset: 0,
    recordLength: 0,
  } as DirectoryEntry;
}

describe('FolderAttributes', () => {
  const scratch = useTempDirs();

  it('sets a folder once planning is over and its last expected entry is done; one its owner cannot list, at the end', () => {
    const root = scratch('folder-attributes');
    const dirs = new HeldDirectories(root);
    const log = new MemoryLogger();
    const attributes = new FolderAttributes(dirs, log);
    const a = dirs.makeChild(0, Buffer.from('a')).dir;
    const b = dirs.makeChild(a, Buffer.from('b')).dir;
    const c = dirs.makeChild(0, Buffer.from('c')).dir;
    const time = (rel: string) => lstatSync(join(root, rel), { bigint: true }).mtimeNs;
    const isSet = (rel: string, want: bigint) => {
      const d = time(rel) - want;
      return d >= -1000n && d <= 1000n;
    };
    // Planning: a holds two files (one done already) and b; b holds nothing; c (mode 0311) one file.
    attributes.expect(a);
    attributes.expect(a);
    attributes.done(a);
    attributes.addFolder(b, folder('b', 0o755, T));
    attributes.addFolder(a, folder('a', 0o750, T + 1_000_000n));
    attributes.expect(c);
    attributes.addFolder(c, folder('c', 0o311, T + 2_000_000n));
    expect(isSet('a/b', T)).toBe(false); // nothing before planning is over
    attributes.planDone();
    expect(isSet('a/b', T)).toBe(true); // nothing left to write into b
    expect(isSet('a', T + 1_000_000n)).toBe(false); // a file of a is still being written
    attributes.done(a);
    expect(isSet('a', T + 1_000_000n)).toBe(true);
    expect(lstatSync(join(root, 'a')).mode & 0o777).toBe(0o750);
    attributes.done(c);
    expect(isSet('c', T + 2_000_000n)).toBe(false); // its owner may not list it: the folders below go through it
    attributes.finish();
    expect(isSet('c', T + 2_000_000n)).toBe(true);
    expect(lstatSync(join(root, 'c')).mode & 0o777).toBe(0o311);
    expect(log.lines).toEqual([]);
    dirs.close();
  });
});
