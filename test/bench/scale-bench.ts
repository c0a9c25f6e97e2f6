// Many small files: first and unchanged backups of a generated tree, time and peak RSS, beside restic and borg
// (when installed), in one run. Behind a size switch: CAIRN_BENCH_SCALE_FILES=1000000 npm run bench (the tree is
// generated once into the temp folder and kept for the next run; ~4 GB for a million files).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cairnCli = join(resolve(here, '../../..'), 'dist/cli/cairn.js');
const QUARTERS = 4;

interface Step {
  seconds: number;
  peakMiB: number;
}

/** `files` small files (500 B–4 KB) in folders of 20, spread over four quarters q0…q3; or all in one folder. */
function generate(root: string, files: number, oneFolder: boolean): void {
  const marker = join(root, '.complete');
  if (existsSync(marker)) return;
  rmSync(root, { recursive: true, force: true });
  const block = Buffer.alloc(4096);
  for (let i = 0; i < block.length; i++) block[i] = 97 + ((i * 7919) % 26);
  for (let n = 0; n < files; n++) {
    const folder = oneFolder
      ? join(root, 'all')
      : join(root, `q${n % QUARTERS}`, `d${Math.floor(n / (20 * QUARTERS))}`);
    if (oneFolder ? n === 0 : n % (20 * QUARTERS) < QUARTERS) mkdirSync(folder, { recursive: true });
    block.writeUInt32LE(n, 0);
    writeFileSync(join(folder, `file-${n}.txt`), block.subarray(0, 500 + ((n * 2654435761) % 3500)));
  }
  writeFileSync(marker, '');
}

/** Runs a command under /usr/bin/time: wall seconds and the peak RSS of its biggest process. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Step {
  spawnSync('sync');
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', cmd, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 << 20,
  });
  const line = /TIME ([\d.]+) (\d+)/.exec(r.stderr.toString());
  if (r.status !== 0 || !line) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.toString().slice(-500)}`);
  return { seconds: Number(line[1]), peakMiB: Number(line[2]) / 1024 };
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

interface Peer {
  name: string;
  init(repo: string): void;
  backup(repo: string, source: string): Step;
}

const resticEnv = { RESTIC_PASSWORD: 'cairn-bench', RESTIC_CACHE_DIR: join(tmpdir(), 'cairn-scale-restic-cache') };
const borgEnv = {
  BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
  BORG_BASE_DIR: join(tmpdir(), 'cairn-scale-borg'),
};
let borgN = 0;

const tools: Peer[] = [
  {
    name: 'cairn',
    init: (repo) => void timed(process.execPath, [cairnCli, 'init', repo, '--sync', 'none']),
    backup: (repo, source) => timed(process.execPath, [cairnCli, 'backup', repo, source, '--id', 'scale']),
  },
  ...(has('restic')
    ? [
        {
          name: 'restic',
          init: (repo: string) => void timed('restic', ['init', '-r', repo], resticEnv),
          backup: (repo: string, source: string) => timed('restic', ['backup', '-q', '-r', repo, source], resticEnv),
        },
      ]
    : []),
  ...(has('borg')
    ? [
        {
          name: 'borg',
          init: (repo: string) => void timed('borg', ['init', '--encryption', 'none', repo], borgEnv),
          backup: (repo: string, source: string) =>
            timed('borg', ['create', '--compression', 'zstd,1', `${repo}::b${borgN++}`, source], borgEnv),
        },
      ]
    : []),
];

function row(cells: string[]): string {
  return cells.map((c, i) => c.padEnd(i === 0 ? 34 : 16)).join('');
}

function benchTree(title: string, source: string, quarter: string | undefined): void {
  console.log(`\n-- ${title} --`);
  console.log(row(['tool', 'first backup', 'unchanged', quarter ? 'first, 1/4 tree' : '']));
  const work = join(tmpdir(), 'cairn-scale-repos');
  const firsts = new Map<string, number>();
  for (const tool of tools) {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const repo = join(work, 'repo');
    tool.init(repo);
    const first = tool.backup(repo, source);
    const again = tool.backup(repo, source);
    let small: Step | undefined;
    if (quarter) {
      const repo2 = join(work, 'repo-quarter');
      tool.init(repo2);
      small = tool.backup(repo2, quarter);
    }
    firsts.set(tool.name, first.seconds);
    const show = (s: Step): string => `${s.seconds.toFixed(1)} s ${s.peakMiB.toFixed(0)} MiB`;
    console.log(row([tool.name, show(first), show(again), small ? show(small) : '']));
  }
  rmSync(work, { recursive: true, force: true });
  const peers = tools.filter((t) => t.name !== 'cairn').map((t) => firsts.get(t.name)!);
  if (peers.length > 0)
    console.log(`first backup, Cairn / faster peer: ${(firsts.get('cairn')! / Math.min(...peers)).toFixed(2)}`);
}

export function scaleBench(): void {
  const files = Number(process.env.CAIRN_BENCH_SCALE_FILES ?? 0);
  if (!(files > 0)) {
    console.log('\n== Scale: skipped (CAIRN_BENCH_SCALE_FILES=1000000 to run it) ==');
    return;
  }
  console.log(`\n== Scale: ${files.toLocaleString('en')} small files (time, peak RSS) ==`);
  const base = join(tmpdir(), 'cairn-scale-trees');
  const many = join(base, `many-${files}`);
  generate(many, files, false);
  benchTree(`${files.toLocaleString('en')} files in folders of 20`, many, join(many, 'q0'));
  const single = join(base, `one-folder-${Math.round(files / 5)}`);
  generate(single, Math.round(files / 5), true);
  benchTree(`${Math.round(files / 5).toLocaleString('en')} files in one folder`, single, undefined);
}
