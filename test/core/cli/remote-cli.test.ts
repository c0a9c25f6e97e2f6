import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, startCephGateway, type CephGateway } from '../../support/ceph.js';
import { cairn, CLI, expectCliError, type CliResult } from '../../support/processes.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';
import { expectSameTree, put } from '../../support/tree.js';

function ok(r: CliResult): CliResult {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r;
}

describe('cairn remote, push and pull against a real Ceph object gateway', () => {
  let gw: CephGateway;
  const temp = useTempDirs();

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    gw = await startCephGateway();
    await createBucket(gw, 'cli-bucket');
  }, 180_000);
  afterAll(async () => {
    await gw?.stop();
  }, 60_000);

  async function setup() {
    const dir = temp('remote-cli', storeTempRoot());
    const config = join(dir, 'config');
    const env = {
      CAIRN_CONFIG_DIR: config,
      CAIRN_S3_ACCESS_KEY_ID: gw.accessKeyId,
      CAIRN_S3_SECRET_ACCESS_KEY: gw.secretAccessKey,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
    };
    const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => cairn(args, { env: { ...env, ...extra } });
    const store = join(dir, 'store');
    const src = join(dir, 'music');
    put(src, 'a.txt', 'alpha');
    put(src, 'sub/b.bin', Buffer.alloc(300_000, 3));
    ok(await run(['init', store]));
    ok(await run(['backup', store, src]));
    return { dir, config, store, src, run };
  }

  it('adds a remote (its secret stored apart, mode 0600, never printed), checks it, pushes and pulls', async () => {
    const { dir, config, store, src, run } = await setup();
    const prefix = `p${Date.now()}/`;
    const added = ok(
      await run([
        'remote',
        'add',
        'offsite',
        '--endpoint',
        gw.endpoint,
        '--bucket',
        'cli-bucket',
        '--prefix',
        prefix,
        '--region',
        gw.region,
      ]),
    );
    expect(added.stdout).toContain('Added the remote offsite');
    const credentials = join(config, 'remote-credentials.json');
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(config, 'remotes.json'), 'utf8')).not.toContain(gw.secretAccessKey);
    const listed = ok(await run(['remote', 'list', '--json']));
    const shown = ok(await run(['remote', 'show', 'offsite']));
    for (const r of [added, listed, shown]) expect(r.stdout + r.stderr).not.toContain(gw.secretAccessKey);

    // With the stored credentials only.
    const noEnv = { CAIRN_S3_ACCESS_KEY_ID: undefined, CAIRN_S3_SECRET_ACCESS_KEY: undefined };
    expect(ok(await run(['remote', 'check', 'offsite'], noEnv)).stdout).toMatch(/OK: offsite supports everything/);
    const pushed = JSON.parse(ok(await run(['push', store, 'offsite', '--json'], noEnv)).stdout) as {
      pushed: string[];
    };
    expect(pushed.pushed).toHaveLength(1);
    expect(ok(await run(['remote', 'snapshots', 'offsite'], noEnv)).stdout).toMatch(/host\/music\/\S+\s+complete/);
    expect(ok(await run(['push', store, 'offsite'], noEnv)).stdout).toMatch(
      /Pushed 0 snapshots .*1 snapshot was there already/,
    );

    // Straight from the remote: a listing, one file, a restore; the cache is trimmed to its bound after each.
    const cache = { CAIRN_CACHE_DIR: join(dir, 'cache'), CAIRN_CACHE_MAX_BYTES: '0', ...noEnv };
    expect(ok(await run(['remote', 'ls', 'offsite', 'host/music'], cache)).stdout).toMatch(/a\.txt[\s\S]*sub\//);
    expect(ok(await run(['remote', 'cat', 'offsite', 'host/music', 'a.txt'], cache)).stdout).toBe('alpha');
    ok(await run(['remote', 'restore', 'offsite', 'host/music', 'sub', '--to', join(dir, 'partial')], cache));
    expectSameTree(join(src, 'sub'), join(dir, 'partial'));
    const cachedChunks = readdirSync(join(dir, 'cache'), { recursive: true, withFileTypes: true }).filter(
      (d) => d.isFile() && /^[0-9a-f]{64}$/.test(d.name),
    );
    expect(cachedChunks).toEqual([]);
    const fresh = join(dir, 'fresh');
    ok(await run(['init', fresh]));
    expect(ok(await run(['pull', 'offsite', fresh, 'host/music'], noEnv)).stdout).toMatch(
      /Pulled 1 snapshot .*verified/,
    );
    ok(await run(['restore', fresh, 'host/music', '--to', join(dir, 'out')]));
    expectSameTree(src, join(dir, 'out'));
    // A plan that pushes each backup: it names a remote that exists, and plan run sends the new snapshot.
    expectCliError(
      await run(['plan', 'add', 'tunes', '--source', src, '--store', store, '--push-to', 'nowhere']),
      /no remote named "nowhere"/,
    );
    const badKeep = await run(['plan', 'add', 'tunes', '--source', src, '--store', store, '--push-keep', 'last=2']);
    expect(badKeep.code).toBe(2);
    expect(badKeep.stderr).toMatch(/--push-keep needs a remote/);
    ok(
      await run([
        'plan',
        'add',
        'tunes',
        '--source',
        src,
        '--store',
        store,
        '--push-to',
        'offsite',
        '--push-keep',
        'last=1',
        '--manual',
      ]),
    );
    expect(ok(await run(['plan', 'show', 'tunes'])).stdout).toMatch(
      /off-site\s+pushed to offsite after each backup \(there: keep last 1\)/,
    );
    ok(await run(['plan', 'run', 'tunes'], noEnv));
    const remoteNow = ok(await run(['remote', 'snapshots', 'offsite', '--json'], noEnv)).stdout;
    expect((JSON.parse(remoteNow) as { id: string }[]).filter((s) => s.id === 'tunes')).toHaveLength(1);
    ok(await run(['backup', store, src], noEnv));
    ok(await run(['push', store, 'offsite', 'host/music'], noEnv));
    expect(
      ok(await run(['remote', 'prune', 'offsite', 'host/music', '--keep-last', '1', '--dry-run'], noEnv)).stdout,
    ).toMatch(/Dry run: would remove 1 snapshot of host\/music on offsite/);
    expect(ok(await run(['remote', 'prune', 'offsite', 'host/music', '--keep-last', '1'], noEnv)).stdout).toMatch(
      /Removed 1 snapshot .*cairn remote gc offsite/,
    );
    expect(ok(await run(['remote', 'gc', 'offsite'], noEnv)).stdout).toMatch(
      /GC of offsite: .* too young to remove yet; .* requests/,
    );
    ok(await run(['plan', 'edit', 'tunes', '--push-to', '']));
    expect(ok(await run(['plan', 'show', 'tunes'])).stdout).toMatch(/off-site\s+none/);
    ok(await run(['remote', 'remove', 'offsite']));
    expect(readFileSync(credentials, 'utf8')).not.toContain(gw.secretAccessKey);
  }, 120_000);

  it('refuses bad input as usage errors or clear errors', async () => {
    const { store, run } = await setup();
    const usage = async (args: string[], pattern: RegExp) => {
      const r = await run(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(pattern);
    };
    await usage(['remote', 'add', 'x', '--bucket', 'b'], /missing --endpoint/);
    await usage(['push', store, 'x', '--limit', 'fast'], /--limit takes bytes per second/);
    await usage(['push', store, 'x', '--parallel', '0'], /--parallel takes 1 to 64/);
    await usage(['pull', 'x', store, '--limit', '1M'], /pull takes no --limit/);
    await usage(['remote', 'frobnicate'], /unknown remote sub-command/);
    expectCliError(await run(['push', store, 'nowhere']), /no remote named "nowhere"/);
    expectCliError(
      await run(['remote', 'add', 'bad', '--endpoint', 'ftp://x', '--bucket', 'cli-bucket']),
      /endpoint: an http:\/\/ or https:\/\/ URL/,
    );
    ok(
      await run(['remote', 'add', 'wrongkey', '--endpoint', gw.endpoint, '--bucket', 'cli-bucket'], {
        CAIRN_S3_SECRET_ACCESS_KEY: 'nope',
      }),
    );
    expectCliError(
      await run(['push', store, 'wrongkey'], {
        CAIRN_S3_SECRET_ACCESS_KEY: undefined,
        CAIRN_S3_ACCESS_KEY_ID: undefined,
      }),
      /credentials were refused/,
    );
    // A service that is not there is said as that, not as a missing feature or wrong credentials.
    ok(await run(['remote', 'add', 'down', '--endpoint', 'http://127.0.0.1:1', '--bucket', 'cli-bucket']));
    const down = await run(['remote', 'check', 'down']);
    expectCliError(
      down,
      /^cairn: error: remote down \(http:\/\/127\.0\.0\.1:1, bucket cli-bucket\): .*cannot be reached/m,
    );
    expect(down.stderr).not.toMatch(/missing|lacks|credentials/);
  }, 60_000);
});
