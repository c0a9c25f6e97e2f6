import { chmodSync, chownSync, linkSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FOLDER_CHUNK_SIZE } from '../../core/archive/folder-backup.js';
import { pseudoRandomBytes, textBytes } from './data.js';
import { isRoot } from './folder-store.js';
import { mkfifo, put, readTree, stampTimes } from './tree.js';

/** Files at least this big start and end on chunk boundaries of the payload stream (min chunk size). */
export const LARGE_FILE = FOLDER_CHUNK_SIZE / 4;

export interface RichTree {
  root: string;
  /** A folder next to the tree that symlinks point into: it must never be backed up. */
  outside: string;
  /** Entries the backup skips (with a warning): the FIFO, and the unreadable file unless we are root. */
  skipped: string[];
  unreadable: string;
  fifo: string;
  /** The archive's expected totals. */
  expected: { files: number; directories: number; symlinks: number; hardlinks: number; bytes: number; skipped: number };
  deepPath: string;
}

export const ODD_NAMES = [
  'with space.txt',
  'new\nline.txt',
  '😀 emoji 🎉.txt',
  '\u00fc.txt',
  'u\u0308.txt',
  '-dash.txt',
  '--double-dash',
  '.hidden',
  '..two-dots',
  'tab\there',
  'back\\slash',
  'quote"\'',
  '*star?',
  'colon:semi;',
  '#hash',
  `${'long-name-'.repeat(20)}end`,
];

/**
 * A source tree with every kind of entry a folder backup handles: files of sizes 0, 1, small, around the
 * large-file threshold and ~3 MiB; a 20-deep chain of long folder names; empty folders; relative, absolute,
 * dangling and looping symlinks (some into a folder outside the tree); hardlinks across folders; odd and
 * unicode names (NFC and NFD 'ü' as two files); modes 0600/0755/0444 and read-only/private folders; ns mtimes;
 * a FIFO and an unreadable file; as root, a file owned by another user.
 */
export function buildRichTree(base: string): RichTree {
  const root = join(base, 'src');
  const outside = join(base, 'outside');
  put(outside, 'secret-outside.txt', 'must not be backed up');
  put(outside, 'sub/more-outside.txt', 'nor this');

  put(root, 'empty.txt', '');
  put(root, 'one.bin', Buffer.from([0x2a]));
  put(root, 'small.txt', textBytes(5000, 3));
  put(root, 'big.bin', pseudoRandomBytes(3 * 1024 * 1024 + 12345, 'rich-big'));
  put(root, 'threshold/below.bin', pseudoRandomBytes(LARGE_FILE - 1, 'below'));
  put(root, 'threshold/exact.bin', pseudoRandomBytes(LARGE_FILE, 'exact'));
  put(root, 'threshold/above.bin', pseudoRandomBytes(LARGE_FILE + 1, 'above'));

  const levels = Array.from({ length: 20 }, (_, i) => `level-${String(i + 1).padStart(2, '0')}-${'x'.repeat(90)}`);
  const deepPath = levels.join('/');
  put(root, `${levels.slice(0, 10).join('/')}/middle.txt`, 'half way down');
  put(root, `${deepPath}/leaf.txt`, 'at the bottom of a long path');

  mkdirSync(join(root, 'empty-dir'));
  mkdirSync(join(root, 'empty-parent/empty-child'), { recursive: true });

  mkdirSync(join(root, 'links'));
  symlinkSync('../small.txt', join(root, 'links/rel-file'));
  symlinkSync(outside, join(root, 'links/abs-outside-dir'));
  symlinkSync('../../outside', join(root, 'links/rel-outside-dir'));
  symlinkSync(join(outside, 'secret-outside.txt'), join(root, 'links/abs-outside-file'));
  symlinkSync('no/such/file', join(root, 'links/dangling'));
  symlinkSync('loop', join(root, 'links/loop'));
  symlinkSync(`../${levels[0]}`, join(root, 'links/to-deep'));

  put(root, 'hard/a.bin', pseudoRandomBytes(100_000, 'hard'));
  linkSync(join(root, 'hard/a.bin'), join(root, 'hard/b.bin'));
  mkdirSync(join(root, 'hard-too'));
  linkSync(join(root, 'hard/a.bin'), join(root, 'hard-too/c.bin'));
  put(root, 'hard/x.txt', 'small linked text');
  linkSync(join(root, 'hard/x.txt'), join(root, 'hard/y.txt'));

  ODD_NAMES.forEach((name, i) => put(root, `names/${name}`, `file ${i}: ${JSON.stringify(name)}\n`));

  put(root, 'modes/private.txt', 'secret', 0o600);
  put(root, 'modes/script.sh', '#!/bin/sh\necho hi\n', 0o755);
  put(root, 'modes/readonly.txt', 'do not touch', 0o444);
  put(root, 'modes/private-dir/f.txt', 'in a private folder');
  chmodSync(join(root, 'modes/private-dir'), 0o700);
  put(root, 'modes/ro-dir/inside.txt', 'in a read-only folder');
  chmodSync(join(root, 'modes/ro-dir'), 0o555);

  const owned = put(root, 'owned.txt', 'owned by someone else');
  if (isRoot) chownSync(owned, 4321, 8765);

  put(root, 'special/ok.txt', 'next to special files');
  const fifo = 'special/pipe';
  mkfifo(join(root, fifo));
  const unreadable = 'special/unreadable.bin';
  put(root, unreadable, 'nobody may read this', 0o000);

  stampTimes(root);

  // The expected archive totals, from the tree as it is on disk.
  const tree = readTree(root);
  const skipped = isRoot ? [fifo] : [fifo, unreadable];
  const seen = new Set<bigint>();
  const expected = { files: 0, directories: 0, symlinks: 0, hardlinks: 0, bytes: 0, skipped: skipped.length };
  for (const [rel, e] of tree) {
    if (skipped.includes(rel)) continue;
    if (e.kind === 'directory') expected.directories++;
    else if (e.kind === 'symlink') expected.symlinks++;
    else if (e.kind === 'file') {
      if (e.nlink > 1 && seen.has(e.ino)) {
        expected.hardlinks++;
        continue;
      }
      seen.add(e.ino);
      expected.files++;
      expected.bytes += e.size;
    }
  }
  return { root, outside, skipped, unreadable, fifo, expected, deepPath };
}
