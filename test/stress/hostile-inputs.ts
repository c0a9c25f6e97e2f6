import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { DATA_ARCHIVE } from '../../core/archive/archive-format.js';
import { snapshotPath } from '../../core/backup/backup-names.js';
import { MANIFEST_NAME } from '../../core/backup/manifest.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { openIndex } from '../../core/index/index-reader.js';
import { craftSnapshot, type CraftNode } from '../support/crafted.js';
import { pseudoRandomBytes } from '../support/data.js';
import { cli } from './processes.js';
import type { Tally } from './tally.js';

const HANG_MS = 20_000;

interface Fixture {
  base: string;
  store: string;
  src: string;
  outside: string;
  snapshotDir: string;
  chunkPath: string;
}

function listAll(dir: string): string {
  return (readdirSync(dir, { recursive: true }) as string[]).sort().join('\n');
}

async function fixture(base: string): Promise<Fixture> {
  rmSync(base, { recursive: true, force: true });
  const store = join(base, 'store');
  const src = join(base, 'src');
  const outside = join(base, 'outside');
  mkdirSync(join(src, 'docs'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(src, 'big.bin'), pseudoRandomBytes(3 * 1024 * 1024, 'hostile'));
  writeFileSync(join(src, 'docs', 'a.txt'), 'a small file');
  writeFileSync(join(outside, 'victim.txt'), 'outside the store and every target');
  await cli(['init', store, '--sync', 'none']);
  await cli(['backup', store, src, '--id', 's']);
  const ds = Datastore.open(store);
  const snapshotDir = ds.snapshotDir(ds.latestSnapshot({ type: 'host', id: 's' })!);
  const digest = openIndex(join(snapshotDir, DATA_ARCHIVE)).digest(0);
  return { base, store, src, outside, snapshotDir, chunkPath: ds.chunks.chunkPath(digest) };
}

const HAZARDS: [string, (f: Fixture) => void][] = [
  [
    'FIFO chunk',
    (f) => {
      unlinkSync(f.chunkPath);
      execFileSync('mkfifo', [f.chunkPath]);
    },
  ],
  [
    'chunk -> /dev/zero',
    (f) => {
      unlinkSync(f.chunkPath);
      symlinkSync('/dev/zero', f.chunkPath);
    },
  ],
  [
    'FIFO index',
    (f) => {
      const p = join(f.snapshotDir, DATA_ARCHIVE);
      unlinkSync(p);
      execFileSync('mkfifo', [p]);
    },
  ],
  [
    'manifest -> /dev/zero',
    (f) => {
      const p = join(f.snapshotDir, MANIFEST_NAME);
      renameSync(p, `${p}.x`);
      symlinkSync('/dev/zero', p);
    },
  ],
  [
    'truncated index',
    (f) => {
      writeFileSync(join(f.snapshotDir, DATA_ARCHIVE), 'short');
    },
  ],
  [
    'flipped chunk byte',
    (f) => {
      const b = readFileSync(f.chunkPath);
      b[b.length >> 1]! ^= 1;
      writeFileSync(f.chunkPath, b);
    },
  ],
  [
    '.chunks prefix -> outside',
    (f) => {
      const prefix = join(f.store, '.chunks', 'ffff');
      rmSync(prefix, { recursive: true });
      const victims = join(f.outside, 'chunk-named');
      mkdirSync(victims);
      writeFileSync(join(victims, 'f'.repeat(64)), 'not a chunk');
      utimesSync(join(victims, 'f'.repeat(64)), new Date(0), new Date(0));
      symlinkSync(victims, prefix);
    },
  ],
  [
    'vm/ -> outside',
    (f) => {
      const abandoned = join(f.outside, 'vm', 'victim', '2020-01-01T00:00:00Z');
      mkdirSync(abandoned, { recursive: true });
      writeFileSync(join(abandoned, 'precious'), 'keep me');
      symlinkSync(join(f.outside, 'vm'), join(f.store, 'vm'));
    },
  ],
  [
    '.locks is a file',
    (f) => {
      rmSync(join(f.store, '.locks'), { recursive: true, force: true });
      writeFileSync(join(f.store, '.locks'), '');
    },
  ],
  [
    '.gc-status from PBS (kebab-case)',
    (f) => {
      writeFileSync(join(f.store, '.gc-status'), '{"index-file-count": 3, "disk-bytes": 7}');
    },
  ],
];

const COMMANDS = (f: Fixture, n: number): string[][] => [
  ['cat', f.store, 'host/s', 'big.bin'],
  ['ls', f.store, 'host/s'],
  ['diff', f.store, 'host/s', 'host/s'],
  ['restore', f.store, 'host/s', '--to', join(f.base, `out-${n}`)],
  ['restore', f.store, 'host/s', '--to', join(f.base, `out-${n}`), '--overwrite'],
  ['verify', f.store],
  ['status', f.store],
  ['snapshots', f.store],
  ['groups', f.store],
  ['backup', f.store, f.src, '--id', 's'],
  ['gc', f.store],
  ['prune', f.store, 'host/s', '--keep-last', '5'],
];

/** Every command on every damaged or booby-trapped store: each ends in time, says what is wrong in one line, writes nothing outside. */
export async function hostileInputs(work: string, tally: Tally): Promise<void> {
  for (const [label, plant] of HAZARDS) {
    const f = await fixture(join(work, 'hostile'));
    plant(f);
    const outsideBefore = listAll(f.outside);
    for (const [n, args] of COMMANDS(f, tally.badInputs).entries()) {
      tally.badInputs++;
      const r = await cli(args, { timeoutMs: HANG_MS });
      if (r.timedOut) {
        tally.hangs++;
        console.log(`  ${label}: ${args[0]} hung`);
      } else if (r.code !== 0 && (r.code !== 1 || !/^cairn: error: /m.test(r.stderr) || /\n\s+at /.test(r.stderr))) {
        tally.unclearErrors++;
        console.log(
          `  ${label}: ${args[0]} (#${n}) exit ${r.code}: ${r.stderr.trim().split('\n').slice(0, 2).join(' | ')}`,
        );
      }
    }
    if (listAll(f.outside) !== outsideBefore) {
      tally.writesOutside++;
      console.log(`  ${label}: something outside the store changed`);
    }
  }
  await craftedArchives(join(work, 'crafted'), tally);
}

const PWNED: CraftNode = { kind: 'file', name: 'pwned', content: 'written where it must not be' };
const UNSAFE: CraftNode[][] = [
  [{ kind: 'dir', name: '..', children: [PWNED] }],
  [{ kind: 'file', name: '../outside/pwned', content: 'x' }],
  [{ kind: 'dir', name: 'x/../..', children: [PWNED] }],
  [{ kind: 'file', name: Buffer.from('a\0b'), content: 'x' }],
  [
    { kind: 'file', name: 'same', content: '1' },
    { kind: 'file', name: 'same', content: '2' },
  ],
  [{ kind: 'hardlink', name: 'h', content: 'payload', linkTarget: '/etc/passwd' }],
  [
    {
      kind: 'dir',
      name: 'ok',
      children: [{ kind: 'dir', name: '..', children: [{ kind: 'dir', name: '..', children: [PWNED] }] }],
    },
  ],
];

/** Hand-made archives with names and links that point out of the target: restore writes nothing outside it. */
async function craftedArchives(work: string, tally: Tally): Promise<void> {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'target', 'deep'), { recursive: true });
  mkdirSync(join(work, 'outside'));
  const store = join(work, 'store');
  await cli(['init', store, '--sync', 'none']);
  const ds = Datastore.open(store);
  for (const [i, nodes] of UNSAFE.entries()) {
    const ref = craftSnapshot(ds, `crafted-${i}`, nodes);
    for (const overwrite of [[], ['--overwrite']]) {
      tally.badInputs++;
      const r = await cli(['restore', store, snapshotPath(ref), '--to', join(work, 'target', 'deep'), ...overwrite], {
        timeoutMs: HANG_MS,
      });
      if (r.timedOut) tally.hangs++;
      if (r.code !== 0 && r.code !== 1) tally.unclearErrors++;
    }
    if (readdirSync(join(work, 'outside')).length > 0 || readdirSync(join(work, 'target')).join() !== 'deep')
      tally.writesOutside++;
  }
}
