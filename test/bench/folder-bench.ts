// Folder backups side by side with restic and borg (when installed) on the shared dataset, in one run.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/temp.js';
import { median } from './measure.js';
import { backupFolder } from '../../core/archive/folder-backup.js';
import { Datastore } from '../../core/datastore/datastore.js';
import {
  cpuByThread,
  describeFloor,
  describeThreads,
  FloorRun,
  oneThreadSeconds,
  type FloorFigures,
} from './floor-bench.js';

interface Tool {
  name: string;
  note: string;
  /** A yardstick (restic, borg), not a Cairn mode. */
  peer: boolean;
  init(repo: string): void;
  backup(repo: string, source: string, n: number): void;
  restore(repo: string, target: string, n: number): void;
  /** Drop all but the newest of the three backups and free the space only they used. */
  forgetOldAndCollect(repo: string): void;
}

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const cairnCli = join(repoRoot, 'dist/cli/cairn.js');
const generator = resolve(repoRoot, 'test/bench/gen-dataset.cjs');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): void {
  const r = spawnSync(cmd, args, {
    env: { ...process.env, ...env },
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr?.toString().slice(-500)}`);
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function duBytes(path: string): number {
  return Number(execFileSync('du', ['-sb', path]).toString().split('\t')[0]);
}

/**
 * Times one step. Dirty pages are flushed first (not timed), so no tool pays for the writes of the step before
 * it (the dataset generator's gigabyte, another tool's repository) while its own step runs.
 */
function timed(fn: () => void): number {
  spawnSync('sync');
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

/** Empties the page cache (root only): a cold step reads from the disk, as a backup after a reboot does. */
function dropCaches(): boolean {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

function canDropCaches(): boolean {
  try {
    accessSync('/proc/sys/vm/drop_caches', constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const restic = { RESTIC_PASSWORD: 'cairn-bench', RESTIC_CACHE_DIR: join(tmpdir(), 'cairn-bench-restic-cache') };

/** Cairn with a key file without passphrase beside the repository (no scrypt per command in the timings). */
const keyOf = (repo: string): string => `${repo}.key.json`;
const encrypted = (repo: string): string[] => ['--keyfile', keyOf(repo)];

const tools: Tool[] = [
  {
    name: 'cairn',
    note: 'zstd level 1, no encryption',
    peer: false,
    init: (repo) => run(process.execPath, [cairnCli, 'init', repo, '--sync', 'none']),
    backup: (repo, source) => run(process.execPath, [cairnCli, 'backup', repo, source, '--id', 'bench']),
    restore: (repo, target) => run(process.execPath, [cairnCli, 'restore', repo, 'host/bench', '--to', target]),
    forgetOldAndCollect: (repo) => {
      run(process.execPath, [cairnCli, 'prune', repo, 'host/bench', '--keep-last', '1']);
      run(process.execPath, [cairnCli, 'gc', repo]);
    },
  },
  {
    name: 'cairn-enc',
    note: 'zstd level 1, AES-256-GCM (PBS format), keyed digests',
    peer: false,
    init: (repo) => {
      run(process.execPath, [cairnCli, 'init', repo, '--sync', 'none']);
      run(process.execPath, [cairnCli, 'key', 'create', keyOf(repo), '--kdf', 'none']);
    },
    backup: (repo, source) =>
      run(process.execPath, [cairnCli, 'backup', repo, source, '--id', 'bench', ...encrypted(repo)]),
    restore: (repo, target) =>
      run(process.execPath, [cairnCli, 'restore', repo, 'host/bench', '--to', target, ...encrypted(repo)]),
    forgetOldAndCollect: (repo) => {
      run(process.execPath, [cairnCli, 'prune', repo, 'host/bench', '--keep-last', '1']);
      run(process.execPath, [cairnCli, 'gc', repo]);
    },
  },
  {
    name: 'restic',
    note: 'zstd auto (repository v2), AES encryption (cannot be turned off)',
    peer: true,
    init: (repo) => run('restic', ['init', '--repo', repo], restic),
    backup: (repo, source) => run('restic', ['--repo', repo, 'backup', '.'], restic, source),
    restore: (repo, target) => run('restic', ['--repo', repo, 'restore', 'latest', '--target', target], restic),
    forgetOldAndCollect: (repo) => run('restic', ['--repo', repo, 'forget', '--keep-last', '1', '--prune'], restic),
  },
  {
    name: 'borg',
    note: 'lz4 (its default), no encryption',
    peer: true,
    init: (repo) =>
      run('borg', ['init', '--encryption', 'none', repo], { BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes' }),
    backup: (repo, source, n) => run('borg', ['create', `${repo}::b${n}`, '.'], {}, source),
    restore: (repo, target, n) => run('borg', ['extract', `${repo}::b${n}`], {}, target),
    forgetOldAndCollect: (repo) => {
      run('borg', ['prune', '--keep-last', '1', repo]);
      run('borg', ['compact', repo]);
    },
  },
];

/** Issue 18's figures: encrypted against plain Cairn (goal: within 10 %), and against restic, which always encrypts. */
function printEncryptionRatios(rows: Map<string, Record<string, number>>): void {
  const plain = rows.get('cairn')!;
  const enc = rows.get('cairn-enc')!;
  const restic = rows.get('restic');
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  console.log(
    `encrypted / plain cairn: first backup ${ratio(enc.first!, plain.first!)}, unchanged ${ratio(enc.unchanged!, plain.unchanged!)}, ` +
      `after modify ${ratio(enc.modified!, plain.modified!)}, restore ${ratio(enc.restore!, plain.restore!)}`,
  );
  if (restic)
    console.log(
      `encrypted cairn / restic: first backup ${ratio(enc.first!, restic.first!)}, restore ${ratio(enc.restore!, restic.restore!)}`,
    );
}

/**
 * A full restore of the third backup into a new folder, three times (the folder removed after each): the median.
 * One restore's time moved by a third from run to run on this VM, with how the host backs the pages it writes.
 */
function restoreMedian(t: Tool, repo: string, target: string): number {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    mkdirSync(target);
    times.push(timed(() => t.restore(repo, target, 3)));
    rmSync(target, { recursive: true, force: true });
  }
  console.log(`  ${t.name}: full restores ${times.map((x) => x.toFixed(2)).join(', ')} s`);
  return median(times);
}

/** The first backup into a new repository and a full restore, each after the page cache was emptied. */
function coldSteps(t: Tool, repo: string, source: string, work: string, r: Record<string, number>): void {
  const coldRepo = `${work}-repo`;
  t.init(coldRepo);
  dropCaches();
  r.coldFirst = timed(() => t.backup(coldRepo, source, 1));
  rmSync(coldRepo, { recursive: true, force: true });
  const target = `${work}-restore`;
  mkdirSync(target);
  dropCaches();
  r.coldRestore = timed(() => t.restore(repo, target, 3));
  rmSync(target, { recursive: true, force: true });
}

/** A first backup run in this process (no process start), with each thread's CPU time. */
async function firstBackupThreads(dir: string, source: string): ReturnType<typeof cpuByThread> {
  const root = join(dir, 'threads-store');
  const store = await Datastore.create(root, { syncLevel: 'none' });
  spawnSync('sync');
  try {
    return await cpuByThread(() => backupFolder(store, source, { id: 'bench', progressIntervalMs: 1e9 }));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** How far a first backup's time is above the floor's steps spread over every core. */
function floorRatio(floor: FloorFigures, seconds: number): string {
  return (seconds / (oneThreadSeconds(floor) / availableParallelism())).toFixed(2);
}

export async function folderBench(): Promise<void> {
  if (!existsSync(generator)) {
    console.log(`\n(folder benchmark skipped: ${generator} not found)`);
    return;
  }
  const scale = process.env.CAIRN_BENCH_SCALE ?? '1';
  const dir = tempDir('bench-folder');
  // The key commands must not touch the user's config folder.
  process.env.CAIRN_CONFIG_DIR ??= join(dir, 'config');
  const available = tools.filter((t) => !t.peer || has(t.name));
  try {
    const source = join(dir, 'data');
    run(process.execPath, [generator, 'generate', source, '--scale', scale]);
    const bytes = duBytes(source);
    console.log(
      `\n== Folder backup of the shared dataset (scale ${scale}, ${(bytes / 1e6).toFixed(0)} MB, hot cache), one run each, the full restore's median of three ==`,
    );
    for (const t of available) console.log(`  ${t.name}: ${t.note}`);
    const floor = new FloorRun(join(dir, 'floor')).run(source);
    for (const line of describeFloor(floor, availableParallelism())) console.log(line);
    for (const line of describeThreads(
      'cairn first backup in this process, by thread',
      await firstBackupThreads(dir, source),
    ))
      console.log(line);
    if (available.length === 1) console.log('  (restic and borg not installed: apt-get install restic borgbackup)');
    const rows = new Map<string, Record<string, number>>();
    // Asked without dropping: a drop here would make the first tool's hot first backup a cold one.
    const cold = process.env.CAIRN_BENCH_COLD === '1' && canDropCaches();
    if (process.env.CAIRN_BENCH_COLD === '1' && !cold)
      console.log('  (cold steps skipped: the page cache can only be dropped as root)');
    for (const t of available) {
      const repo = join(dir, `repo-${t.name}`);
      t.init(repo);
      rows.set(t.name, {
        first: timed(() => t.backup(repo, source, 1)),
        unchanged: timed(() => t.backup(repo, source, 2)),
      });
    }
    run(process.execPath, [generator, 'modify', source]);
    for (const t of available) {
      const repo = join(dir, `repo-${t.name}`);
      const before = duBytes(repo);
      const r = rows.get(t.name)!;
      r.modified = timed(() => t.backup(repo, source, 3));
      r.addedMB = (duBytes(repo) - before) / 1e6;
      r.restore = restoreMedian(t, repo, join(dir, `restore-${t.name}`));
      if (cold) coldSteps(t, repo, source, join(dir, `cold-${t.name}`), r);
      const beforeGc = duBytes(repo);
      r.gc = timed(() => t.forgetOldAndCollect(repo));
      r.freedMB = (beforeGc - duBytes(repo)) / 1e6;
    }
    const peers = available.filter((t) => t.peer).map((t) => rows.get(t.name)!);
    const best = (key: string) => (peers.length ? Math.min(...peers.map((r) => r[key]!)) : NaN);
    const fmt = (s: number) => `${s.toFixed(2)} s (${(bytes / s / 1e6).toFixed(0)} MB/s)`;
    console.log(`${'step'.padEnd(22)}${available.map((t) => t.name.padEnd(24)).join('')}cairn / best peer`);
    for (const [key, label] of [
      ['first', 'first backup'],
      ['unchanged', 'unchanged re-backup'],
      ['modified', 'backup after modify'],
      ['restore', 'full restore'],
      ['gc', 'prune to 1 + GC'],
      ...(cold
        ? ([
            ['coldFirst', 'first backup, cold'],
            ['coldRestore', 'full restore, cold'],
          ] as const)
        : []),
    ] as const) {
      console.log(
        `${label.padEnd(22)}${available.map((t) => fmt(rows.get(t.name)![key]!).padEnd(24)).join('')}${(rows.get('cairn')![key]! / best(key)).toFixed(2)}`,
      );
    }
    console.log(
      `${'added by modify'.padEnd(22)}${available.map((t) => `${rows.get(t.name)!.addedMB!.toFixed(1)} MB`.padEnd(24)).join('')}${(rows.get('cairn')!.addedMB! / best('addedMB')).toFixed(2)}`,
    );
    console.log(
      `${'freed by prune + GC'.padEnd(22)}${available.map((t) => `${rows.get(t.name)!.freedMB!.toFixed(1)} MB`.padEnd(24)).join('')}`,
    );
    console.log(
      '  (cairn prune --keep-last 1 && cairn gc; restic forget --keep-last 1 --prune; borg prune --keep-last 1 && borg compact)',
    );
    console.log(
      `unchanged re-backup / first backup (cairn): ${((rows.get('cairn')!.unchanged! / rows.get('cairn')!.first!) * 100).toFixed(1)}%`,
    );
    printEncryptionRatios(rows);
    console.log(`first backup (cairn) / floor spread over the cores: ${floorRatio(floor, rows.get('cairn')!.first!)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
