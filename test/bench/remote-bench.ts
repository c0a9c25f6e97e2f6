// Off-site copies side by side with restic, against the same real Ceph gateway, in one run: the first push of the
// bench dataset, a push after its ~2% modify, and a restore from the remote; seconds, MB/s and requests per GB
// (the gateway's own request counter: a counting proxy in front of it took CPU from the tools on these 2 cores, the
// more so the more requests a tool makes). CAIRN_BENCH_REMOTE=1 npm run bench (needs Ceph:
// apt-get install --no-install-recommends ceph-mon ceph-osd radosgw).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBucket, startCephGateway, type CephGateway } from '../support/ceph.js';
import { tempDir } from '../support/temp.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const cairnCli = join(repoRoot, 'dist/cli/cairn.js');
const generator = resolve(repoRoot, 'test/bench/gen-dataset.cjs');

interface Step {
  seconds: number;
  requests: number;
}

/** Runs a command without blocking this process. A step that hangs fails after 10 minutes. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-500)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err}`));
    });
  });
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Times `fn` and counts the requests the gateway got meanwhile. */
async function step(gw: CephGateway, fn: () => Promise<void>): Promise<Step> {
  spawnSync('sync');
  const before = await gw.requests();
  const t = performance.now();
  await fn();
  const seconds = (performance.now() - t) / 1000;
  return { seconds, requests: (await gw.requests()) - before };
}

interface Tool {
  name: string;
  first(source: string): Promise<Step>;
  again(source: string): Promise<Step>;
  restore(target: string): Promise<Step>;
}

async function cairnTool(gw: CephGateway, dir: string): Promise<Tool> {
  const env = {
    CAIRN_CONFIG_DIR: join(dir, 'config'),
    CAIRN_CACHE_DIR: join(dir, 'cache'),
    CAIRN_S3_ACCESS_KEY_ID: gw.accessKeyId,
    CAIRN_S3_SECRET_ACCESS_KEY: gw.secretAccessKey,
  };
  const cairn = (...args: string[]): Promise<void> => run(process.execPath, [cairnCli, ...args], env);
  const store = join(dir, 'store');
  await cairn('init', store, '--sync', 'none');
  await cairn('remote', 'add', 'bench', '--endpoint', gw.endpoint, '--bucket', 'cairn-bench', '--region', gw.region);
  // The local backup is not timed: a push sends a backup that exists; restic's backup reads and sends at once.
  const push = async (source: string): Promise<Step> => {
    await cairn('backup', store, source, '--id', 'bench');
    return step(gw, () => cairn('push', store, 'bench'));
  };
  return {
    name: 'cairn push',
    first: push,
    again: push,
    restore: (target) => step(gw, () => cairn('remote', 'restore', 'bench', 'host/bench', '--to', target)),
  };
}

async function resticTool(gw: CephGateway, dir: string): Promise<Tool> {
  const env = {
    RESTIC_PASSWORD: 'cairn-bench',
    RESTIC_REPOSITORY: `s3:${gw.endpoint}/restic-bench`,
    RESTIC_CACHE_DIR: join(dir, 'restic-cache'),
    AWS_ACCESS_KEY_ID: gw.accessKeyId,
    AWS_SECRET_ACCESS_KEY: gw.secretAccessKey,
    AWS_DEFAULT_REGION: gw.region,
  };
  const restic = (args: string[], cwd?: string): Promise<void> =>
    run('restic', ['-o', 's3.bucket-lookup=path', ...args], env, cwd);
  await restic(['init']);
  const backup = (source: string): Promise<Step> => step(gw, () => restic(['backup', '.'], source));
  return {
    name: 'restic backup',
    first: backup,
    again: backup,
    restore: (target) => step(gw, () => restic(['restore', 'latest', '--target', target])),
  };
}

function duBytes(path: string): number {
  return Number(execFileSync('du', ['-sb', path]).toString().split('\t')[0]);
}

export async function remoteBench(): Promise<void> {
  if (process.env.CAIRN_BENCH_REMOTE !== '1') {
    console.log('\n== Remote: skipped (CAIRN_BENCH_REMOTE=1 to run it against a local Ceph gateway) ==');
    return;
  }
  const dir = tempDir('bench-remote');
  const gw = await startCephGateway();
  try {
    await createBucket(gw, 'cairn-bench');
    await createBucket(gw, 'restic-bench');
    const source = join(dir, 'data');
    await run(process.execPath, [generator, 'generate', source, '--scale', process.env.CAIRN_BENCH_SCALE ?? '1']);
    const bytes = duBytes(source);
    const tools = [await cairnTool(gw, join(dir, 'cairn'))];
    try {
      if (has('restic')) tools.push(await resticTool(gw, dir));
    } catch (err) {
      console.log(`  restic left out: ${(err as Error).message}`);
    }
    const rows = new Map<string, Record<string, Step>>();
    for (const t of tools) rows.set(t.name, { first: await t.first(source) });
    await run(process.execPath, [generator, 'modify', source]);
    for (const t of tools) {
      const r = rows.get(t.name)!;
      r.again = await t.again(source);
      const target = join(dir, `restore-${t.name.replace(' ', '-')}`);
      mkdirSync(target);
      r.restore = await t.restore(target);
      rmSync(target, { recursive: true, force: true });
    }
    printRows(rows, bytes);
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function printRows(rows: Map<string, Record<string, Step>>, bytes: number): void {
  console.log(`\n== Off-site copy to a local Ceph gateway (${(bytes / 1e6).toFixed(0)} MB dataset), one run each ==`);
  const names = [...rows.keys()];
  console.log(`${'step'.padEnd(26)}${names.map((n) => n.padEnd(34)).join('')}`);
  const fmt = (s: Step): string =>
    `${s.seconds.toFixed(2)} s ${(bytes / s.seconds / 1e6).toFixed(0)} MB/s ${Math.round(s.requests / (bytes / 1e9))} req/GB`;
  for (const [key, label] of [
    ['first', 'first copy'],
    ['again', 'after the ~2% modify'],
    ['restore', 'restore from the remote'],
  ] as const) {
    const cells = names.map((n) => fmt(rows.get(n)![key]!).padEnd(34)).join('');
    const ratio =
      names.length > 1
        ? `  cairn/restic time ${(rows.get(names[0]!)![key]!.seconds / rows.get(names[1]!)![key]!.seconds).toFixed(2)}`
        : '';
    console.log(`${label.padEnd(26)}${cells}${ratio}`);
  }
  console.log(
    '  (req/GB: requests the gateway got per GB of the dataset; the cairn figures leave out its local backup)',
  );
}
