import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SafeStorage } from 'electron';
import { afterEach, describe, expect, it } from 'vitest';
import type { RemoteCheckResult, RemoteInfo, RemoteListing } from '../../contract/remotes.js';
import { HostService } from '../../host/host-service.js';
import type { SecretStore } from '../../host/remembered-keys.js';
import { CREDENTIALS_FILE, RemoteBook, SEALED_CREDENTIALS_FILE } from '../../core/remote/remote-book.js';
import { safeStorageSecrets } from '../../electron/secret-store.js';
import { createBucket } from '../support/ceph.js';
import { useCephGateway } from '../support/ceph-gateway.js';
import { safeStorage } from '../support/electron-mock.js';
import { call, failure } from '../support/host-calls.js';
import { cairn } from '../support/processes.js';
import { useTempDirs } from '../support/temp.js';

// One gateway for the file (~15 s to start); each test makes buckets and a config folder of its own.
const gw = useCephGateway();

/** Every answer and event of the service, as the renderer would receive them. */
function recordingService(base: string, secretStore?: SecretStore) {
  const seen: string[] = [];
  const service = new HostService({
    platform: { host: 'web' },
    dataDir: join(base, 'data'),
    allowedRoots: [base],
    keys: { configDir: join(base, 'config'), secretStore },
  });
  const handle = service.handle.bind(service);
  service.handle = async (action, payload) => {
    const r = await handle(action, payload);
    seen.push(JSON.stringify(r));
    return r;
  };
  service.subscribe((event, payload) => seen.push(JSON.stringify({ event, payload })));
  return { service, seen };
}

/** Every file under `dir` that holds `text` (as it is, or base64 as a JSON file would carry bytes). */
function filesHolding(dir: string, text: string): string[] {
  if (!existsSync(dir)) return [];
  const hits: string[] = [];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const body = readFileSync(path);
    if (body.includes(text) || body.includes(Buffer.from(text).toString('base64'))) hits.push(name);
  }
  return hits;
}

describe('the host: remotes in settings, on a real Ceph gateway', () => {
  const temp = useTempDirs();
  const services: HostService[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.shutdown();
  });
  let buckets = 0;

  async function newBucket(): Promise<string> {
    const name = `cairn-host-${++buckets}-${randomBytes(3).toString('hex')}`;
    await createBucket(gw, name);
    return name;
  }

  const settings = (bucket: string, prefix = 'laptop/') => ({
    endpoint: gw.endpoint,
    region: gw.region,
    bucket,
    prefix,
    pathStyle: true,
  });
  const credentials = () => ({ accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey });
  const start = (base: string, secrets?: SecretStore) => {
    const r = recordingService(base, secrets);
    services.push(r.service);
    return r;
  };
  /** The CLI as a user runs it on the same config folder (never the real one). */
  const cli = (base: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
    cairn(args, {
      env: {
        CAIRN_CONFIG_DIR: join(base, 'config'),
        CAIRN_CACHE_DIR: join(base, 'cache'),
        CAIRN_S3_ACCESS_KEY_ID: '',
        CAIRN_S3_SECRET_ACCESS_KEY: '',
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        ...env,
      },
      timeoutMs: 60_000,
    });

  it('adds, checks, lists, edits and removes a remote; without a keychain the CLI finds what the app stored', async () => {
    const base = temp('host-remotes');
    const { service, seen } = start(base);
    const bucket = await newBucket();

    // A draft is checked before it is saved: its credentials go to the host, nothing comes back of them.
    const draft = await call<RemoteCheckResult>(service, 'remotes.check', {
      settings: settings(bucket),
      credentials: credentials(),
    });
    expect(draft.ok).toBe(true);
    expect(draft.capabilities.map((c) => [c.name, c.ok])).toEqual([
      ['bucket', true],
      ['conditional-create', true],
      ['content-md5', true],
      ['paged-listing', true],
      ['delete-objects', true],
    ]);
    expect(draft.requests).toBeGreaterThan(4);

    const added = await call<RemoteInfo>(service, 'remotes.add', {
      name: 'offsite',
      settings: settings(bucket, 'laptop'),
      credentials: credentials(),
    });
    expect(added).toEqual({ name: 'offsite', ...settings(bucket), credentials: 'file' });
    const file = join(base, 'config', CREDENTIALS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(join(base, 'config', SEALED_CREDENTIALS_FILE))).toBe(false);
    expect((await call<RemoteCheckResult>(service, 'remotes.check', { name: 'offsite' })).ok).toBe(true);
    expect(await call<RemoteInfo[]>(service, 'remotes.list', {})).toEqual([added]);

    // The CLI reads the same remote with the credentials the app stored.
    const shown = await cli(base, ['remote', 'show', 'offsite', '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ bucket, credentials: 'stored (remote-credentials.json)' });
    const checked = await cli(base, ['remote', 'check', 'offsite']);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toContain('supports everything Cairn needs');

    // An edit without credentials keeps them; a name taken or settings that are wrong are said.
    const edited = await call<RemoteInfo>(service, 'remotes.update', {
      name: 'offsite',
      settings: settings(bucket, 'desk/'),
    });
    expect(edited).toMatchObject({ prefix: 'desk/', credentials: 'file' });
    expect((await call<RemoteCheckResult>(service, 'remotes.check', { name: 'offsite' })).ok).toBe(true);
    const twice = await failure(service, 'remotes.add', {
      name: 'offsite',
      settings: settings(bucket),
      credentials: credentials(),
    });
    expect(twice).toMatchObject({ code: 'ALREADY_EXISTS' });
    const badBucket = await failure(service, 'remotes.add', {
      name: 'other',
      settings: { ...settings(bucket), bucket: 'No_Such' },
      credentials: credentials(),
    });
    expect(badBucket.message).toMatch(/bucket: an S3 bucket name/);
    const unknown = await failure(service, 'remotes.add', {
      name: 'x',
      settings: settings(bucket),
      credentials: { ...credentials(), sessionToken: 'y' },
    });
    expect(unknown.code).toBe('BAD_REQUEST');

    await call(service, 'remotes.remove', { name: 'offsite' });
    expect(await call<RemoteInfo[]>(service, 'remotes.list', {})).toEqual([]);
    expect(readFileSync(file, 'utf8')).not.toContain(gw.secretAccessKey);
    expect((await failure(service, 'remotes.check', { name: 'offsite' })).code).toBe('NOT_FOUND');

    // Not one answer or event carried the secret or the access key id.
    const all = seen.join('\n');
    expect(all).not.toContain(gw.secretAccessKey);
    expect(all).not.toContain(gw.accessKeyId);
    expect(filesHolding(join(base, 'data'), gw.secretAccessKey)).toEqual([]);
  }, 120_000);

  it('seals the credentials with the desktop app’s safeStorage: no secret in plain text; the CLI says it cannot open them', async () => {
    const base = temp('host-remotes-sealed');
    const sealing = safeStorageSecrets(safeStorage as unknown as SafeStorage, 'linux');
    const { service, seen } = start(base, sealing);
    const bucket = await newBucket();
    const added = await call<RemoteInfo>(service, 'remotes.add', {
      name: 'vault',
      settings: settings(bucket),
      credentials: credentials(),
    });
    expect(added.credentials).toBe('keychain');
    const config = join(base, 'config');
    expect(existsSync(join(config, CREDENTIALS_FILE))).toBe(false);
    expect(statSync(join(config, SEALED_CREDENTIALS_FILE)).mode & 0o777).toBe(0o600);
    expect(filesHolding(config, gw.secretAccessKey)).toEqual([]);
    expect(filesHolding(config, gw.accessKeyId)).toEqual([]);
    expect((await call<RemoteCheckResult>(service, 'remotes.check', { name: 'vault' })).ok).toBe(true);
    const listing = await call<RemoteListing>(service, 'remotes.snapshots', { remote: 'vault' });
    expect(listing).toMatchObject({ remote: 'vault', snapshots: [] });

    // The CLI cannot open the keychain's seal and says so; given the credentials in its environment, it works.
    const shown = await cli(base, ['remote', 'show', 'vault']);
    expect(shown.stdout).toContain('sealed by the desktop app');
    const refused = await cli(base, ['remote', 'check', 'vault']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/sealed by the desktop app with the OS keychain, which only the app can open/);
    const withEnv = await cli(base, ['remote', 'check', 'vault'], {
      CAIRN_S3_ACCESS_KEY_ID: gw.accessKeyId,
      CAIRN_S3_SECRET_ACCESS_KEY: gw.secretAccessKey,
    });
    expect(withEnv.code, withEnv.stderr).toBe(0);

    // Browser mode (no keychain) cannot open them either, and says what to do.
    const plain = start(base);
    const closed = await failure(plain.service, 'remotes.check', { name: 'vault' });
    expect(closed).toMatchObject({ code: 'NOT_AVAILABLE' });
    expect(closed.message).toMatch(/sealed by the OS keychain.*enter them again/);
    // Entering them again there keeps them in the 0600 file, and the sealed copy goes.
    const again = await call<RemoteInfo>(plain.service, 'remotes.update', {
      name: 'vault',
      settings: settings(bucket),
      credentials: credentials(),
    });
    expect(again.credentials).toBe('file');
    expect(new RemoteBook(config).sealedCredentials('vault')).toBeUndefined();
    expect((await cli(base, ['remote', 'check', 'vault'])).code).toBe(0);

    // A keychain that no longer opens the seal (another user's): said, never a crash.
    await call(service, 'remotes.update', { name: 'vault', settings: settings(bucket), credentials: credentials() });
    const other: SecretStore = { ...sealing, open: () => Buffer.from('garbage') };
    const stranger = start(base, other);
    const foreign = await failure(stranger.service, 'remotes.check', { name: 'vault' });
    expect(foreign.message).toMatch(/sealed by another user or keychain/);

    const all = [...seen, ...plain.seen, ...stranger.seen].join('\n');
    expect(all).not.toContain(gw.secretAccessKey);
    expect(all).not.toContain(gw.accessKeyId);
  }, 120_000);

  it('says in words what is wrong: refused credentials, a missing bucket, a gateway that is not there', async () => {
    const base = temp('host-remotes-errors');
    const { service, seen } = start(base);
    const bucket = await newBucket();
    const wrong = await call<RemoteCheckResult>(service, 'remotes.check', {
      settings: settings(bucket),
      credentials: { accessKeyId: gw.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    expect(wrong.ok).toBe(false);
    expect(wrong.capabilities).toEqual([
      expect.objectContaining({ name: 'bucket', ok: false, detail: expect.stringMatching(/credentials were refused/) }),
    ]);
    await call(service, 'remotes.add', {
      name: 'gone',
      settings: settings('no-such-bucket-here'),
      credentials: credentials(),
    });
    const missing = await call<RemoteCheckResult>(service, 'remotes.check', { name: 'gone' });
    expect(missing.capabilities[0]!.detail).toMatch(
      /^remote gone \(http:\/\/127\.0\.0\.1:\d+, bucket no-such-bucket-here\): .*the bucket does not exist/,
    );
    const listing = await failure(service, 'remotes.snapshots', { remote: 'gone' });
    expect(listing).toMatchObject({ code: 'NOT_FOUND' });
    expect(listing.message).toMatch(/remote gone .*cannot list .*: the bucket does not exist/);

    await call(service, 'remotes.add', { name: 'here', settings: settings(bucket), credentials: credentials() });
    await gw.stopGateway();
    try {
      const down = await failure(service, 'remotes.snapshots', { remote: 'here' });
      expect(down.message).toMatch(
        /remote here \(http:\/\/127\.0\.0\.1:\d+, bucket .*\): cannot list .*cannot be reached/,
      );
      const check = await call<RemoteCheckResult>(service, 'remotes.check', { name: 'here' });
      expect(check.capabilities[0]!.detail).toMatch(/cannot be reached/);
    } finally {
      await gw.startGateway();
    }
    expect(seen.join('\n')).not.toContain(gw.secretAccessKey);
  }, 180_000);
});
