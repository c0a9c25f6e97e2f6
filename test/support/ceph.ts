// A real S3 server for the remote tests: a single-node Ceph cluster (one monitor, one OSD on a sparse file) with
// its RADOS Gateway, all on loopback in one temp folder, started by the tests that need it (docs/REMOTES.md).
import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { tempDir } from './temp.js';

const execFileAsync = promisify(execFile);
/** Ceph's tools with an environment of their own: the test runner's variables have confused the `ceph` CLI. */
const run = (cmd: string, args: string[]) =>
  execFileAsync(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' } });
/**
 * A command the monitor answers, tried again while it says it is not ready: even after it has taken commands it
 * has refused one with EPERM, "problem getting command descriptions from mon", seen in CI. That refusal comes
 * before the command runs, so running it again is safe.
 */
async function runWhenMonReady(cmd: string, args: string[], timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await run(cmd, args);
      return;
    } catch (err) {
      const text = `${(err as Error).message} ${(err as { stderr?: string }).stderr ?? ''}`;
      if (!/problem getting command descriptions/.test(text) || Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
const BINARIES = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph'];

export interface CephGateway {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Stops the gateway only (a server that went away); `start()` brings it back on the same port. */
  stopGateway(): Promise<void>;
  startGateway(): Promise<void>;
  stop(): Promise<void>;
  /** The requests the gateway has handled since it started (its `rgw.req` counter, from its admin socket). */
  requests(): Promise<number>;
}

/** A new bucket on the gateway, made with the SDK as any S3 tool would. */
export async function createBucket(gw: CephGateway, name: string): Promise<void> {
  const s3 = new S3Client({
    endpoint: gw.endpoint,
    region: gw.region,
    forcePathStyle: true,
    credentials: { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    s3.destroy();
  }
}

/** A free TCP port on loopback. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  const settings: Record<string, string | number | boolean> = {
    fsid,
    mon_host: `v1:127.0.0.1:${monPort}`,
    ms_bind_msgr2: false,
    auth_cluster_required: 'none',
    auth_service_required: 'none',
    auth_client_required: 'none',
    keyring: '/dev/null',
    run_dir: join(dir, 'run'),
    admin_socket: join(dir, 'run', '$name.asok'),
    pid_file: join(dir, 'run', '$name.pid'),
    log_file: join(dir, 'log', '$name.log'),
    crash_dir: join(dir, 'crash'),
    mon_data: join(dir, 'mon', '$name'),
    osd_data: join(dir, 'osd', '$name'),
    rgw_data: join(dir, 'rgw', '$name'),
    osd_pool_default_size: 1,
    osd_pool_default_min_size: 1,
    mon_allow_pool_size_one: true,
    osd_pool_default_pg_num: 8,
    osd_pool_default_pgp_num: 8,
    osd_crush_chooseleaf_type: 0,
    mon_max_pg_per_osd: 1000,
    mon_warn_on_pool_no_redundancy: false,
    mon_data_avail_warn: 2,
    mon_data_avail_crit: 1,
    osd_objectstore: 'bluestore',
    bluestore_block_create: true,
    bluestore_block_size: 10 * 1024 ** 3,
    osd_memory_target: 900 * 1024 ** 2,
    // Without these two the OSD refuses to start ("wrong fsid"); it is placed in the CRUSH map by hand.
    osd_crush_update_on_start: false,
    osd_class_update_on_start: false,
    // Without tcp_nodelay every small response costs ~45 ms more.
    rgw_frontends: `beast endpoint=127.0.0.1:${rgwPort} tcp_nodelay=1`,
  };
  return `[global]\n${Object.entries(settings)
    .map(([k, v]) => `${k} = ${String(v)}`)
    .join('\n')}\n`;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not come up in ${timeoutMs / 1000} s`);
}

function pidOf(dir: string, name: string): number | undefined {
  try {
    return Number(readFileSync(join(dir, 'run', `${name}.pid`), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

async function stopDaemon(dir: string, name: string): Promise<void> {
  const pid = pidOf(dir, name);
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** Starts the cluster and the gateway (~15 s) with one S3 user. Fails clearly when Ceph is not installed. */
export async function startCephGateway(): Promise<CephGateway> {
  const missing = BINARIES.filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);
  if (missing.length > 0)
    throw new Error(
      `the S3 tests need Ceph (${missing.join(', ')} missing): apt-get install --no-install-recommends ceph-mon ceph-osd radosgw (.ci/run does)`,
    );
  const dir = tempDir('ceph');
  try {
    return await startIn(dir);
  } catch (err) {
    // Nothing of a failed start keeps running or stays on disk.
    for (const name of ['client.rgw', 'osd.0', 'mon.a']) await stopDaemon(dir, name);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function startIn(dir: string): Promise<CephGateway> {
  for (const sub of ['run', 'log', 'crash', 'mon/mon.a', 'osd/osd.0', 'rgw/client.rgw'])
    mkdirSync(join(dir, sub), { recursive: true });
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const fsid = randomUUID();
  const conf = join(dir, 'ceph.conf');
  writeFileSync(conf, cephConf(dir, fsid, monPort, rgwPort));
  const c = ['-c', conf];
  const endpoint = `http://127.0.0.1:${rgwPort}`;
  await run('monmaptool', [
    '--create',
    '--fsid',
    fsid,
    '--addv',
    'a',
    `[v1:127.0.0.1:${monPort}]`,
    join(dir, 'run/monmap'),
    ...c,
  ]);
  await run('ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', join(dir, 'run/monmap')]);
  await run('ceph-mon', [...c, '-i', 'a']);
  // The monitor takes a moment before it answers commands ("problem getting command descriptions").
  await waitFor(
    'the Ceph monitor',
    async () =>
      run('ceph', [...c, '--connect-timeout', '5', 'mon', 'stat']).then(
        () => true,
        () => false,
      ),
    60_000,
  );
  const osdUuid = randomUUID();
  // Even once `mon stat` answers, the monitor may refuse a command for a moment (EPERM, "problem getting command
  // descriptions from mon", seen once in CI): tried again. `osd create` with the same uuid is idempotent.
  await waitFor(
    'the Ceph monitor to take commands',
    async () =>
      run('ceph', [...c, 'osd', 'create', osdUuid]).then(
        () => true,
        () => false,
      ),
    60_000,
  );
  await run('ceph-osd', [...c, '-i', '0', '--mkfs', '--osd-uuid', osdUuid]);
  await run('ceph-osd', [...c, '-i', '0']);
  await runWhenMonReady('ceph', [
    ...c,
    'osd',
    'crush',
    'create-or-move',
    'osd.0',
    '1.0',
    'root=default',
    'host=localhost',
  ]);
  const startGateway = async (): Promise<void> => {
    await run('radosgw', [...c, '-n', 'client.rgw']);
    await waitFor(
      'the Ceph object gateway',
      async () => (await fetch(endpoint).catch(() => undefined))?.ok === true,
      90_000,
    );
  };
  await startGateway();
  const accessKeyId = `CAIRN${randomUUID().replaceAll('-', '').slice(0, 15).toUpperCase()}`;
  const secretAccessKey = randomUUID().replaceAll('-', '');
  await runWhenMonReady('radosgw-admin', [
    ...c,
    '-n',
    'client.rgw',
    '--admin-socket',
    join(dir, 'run', 'admin.asok'),
    'user',
    'create',
    '--uid',
    'cairn-test',
    '--display-name',
    'Cairn tests',
    '--access-key',
    accessKeyId,
    '--secret-key',
    secretAccessKey,
  ]);
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    region: 'default',
    stopGateway: () => stopDaemon(dir, 'client.rgw'),
    startGateway,
    requests: async () => {
      const { stdout } = await run('ceph', ['--admin-daemon', join(dir, 'run', 'client.rgw.asok'), 'perf', 'dump']);
      const req = (JSON.parse(stdout) as { rgw?: { req?: unknown } }).rgw?.req;
      if (typeof req !== 'number') throw new Error('the gateway reports no request count (rgw.req)');
      return req;
    },
    stop: async () => {
      for (const name of ['client.rgw', 'osd.0', 'mon.a']) await stopDaemon(dir, name);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
