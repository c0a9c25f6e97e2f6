import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../contract/errors.js';
import type { JobState } from '../../contract/jobs.js';
import type { KeyInfo, KeyList } from '../../contract/keys.js';
import type { FolderPage, GroupRow, SnapshotRow } from '../../contract/model.js';
import { createKey, decryptKey, readKeyFile, writeKeyFile } from '../../core/crypto/key-file.js';
import { HostService } from '../../host/host-service.js';
import type { SecretStore } from '../../host/remembered-keys.js';
import { call, failure } from '../support/host-calls.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

const PASSPHRASE = 'correct horse battery staple';

/** A stand-in for the OS keychain: seals by XOR with a secret of its own, so the file alone opens nothing. */
function testSecretStore(available = true): SecretStore & { sealed: number } {
  const secret = Buffer.alloc(32, 0x5a);
  const xor = (b: Buffer) => Buffer.from(b.map((x, i) => x ^ secret[i % secret.length]!));
  return {
    sealed: 0,
    available: () => available,
    unavailableReason: () => 'no keyring in this test',
    seal(bytes) {
      this.sealed++;
      return Buffer.concat([Buffer.from('sealed:'), xor(bytes)]);
    },
    open: (sealed) => xor(sealed.subarray('sealed:'.length)),
  };
}

/**
 * A host as browser mode or Electron wires it (config folder, data folder), recording every answer it gives, so
 * the test can look for the raw key in anything the renderer could have received.
 */
function host(base: string, answers: string[], secretStore?: SecretStore): HostService {
  const service = new HostService({
    platform: { host: 'web' },
    dataDir: join(base, 'data'),
    allowedRoots: [base],
    keys: { configDir: join(base, 'config'), secretStore },
  });
  const handle = service.handle.bind(service);
  service.handle = async (action, payload) => {
    const r = await handle(action, payload);
    answers.push(JSON.stringify(r));
    return r;
  };
  service.subscribe((event, payload) => answers.push(JSON.stringify({ event, payload })));
  return service;
}

async function runJob(service: HostService, spec: unknown): Promise<JobState> {
  const job = await call<JobState>(service, 'jobs.start', spec);
  return service.engine.whenDone(job.id);
}

/** Every file under `dir`, as text (the history, the remembered keys, the config folder). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'latin1'));
}

describe('keys in the app host', () => {
  const base = tempDir('host-keys', storeTempRoot());
  const store = join(base, 'store');
  const source = join(base, 'Secret Stuff');
  const hosts: HostService[] = [];
  const answers: string[] = [];
  let key: KeyInfo;
  let raw: Buffer;
  const start = (secrets?: SecretStore) => {
    const service = host(base, answers, secrets);
    hosts.push(service);
    return service;
  };

  beforeAll(async () => {
    mkdirSync(join(source, 'inner'), { recursive: true });
    writeFileSync(join(source, 'inner', 'plan.txt'), 'the plan\n');
    const service = start();
    const created = await runJob(service, {
      kind: 'create-store',
      path: store,
      chunkSize: 256 * 1024,
      compression: 'zstd',
    });
    expect(created.status, created.error?.message).toBe('done');
  });
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.shutdown()));
    rmSync(base, { recursive: true, force: true });
  });

  it('creates the default key under a passphrase, unlocked, 0600, listed without its bytes', async () => {
    const service = hosts[0]!;
    const before = await call<KeyList>(service, 'keys.list', {});
    expect(before.keys).toEqual([]);
    expect(before.remember).toEqual({ available: false, why: expect.stringContaining('keychain') });
    key = await call<KeyInfo>(service, 'keys.create', { passphrase: PASSPHRASE, hint: 'the horse' });
    expect(key).toMatchObject({ kdf: 'scrypt', unlocked: true, remembered: false, isDefault: true, hint: 'the horse' });
    expect(key.path).toBe(join(base, 'config', 'keys', 'default.json'));
    expect(statSync(key.path).mode & 0o777).toBe(0o600);
    raw = (await decryptKey(readKeyFile(key.path), Buffer.from(PASSPHRASE), key.path)).key;
    const list = await call<KeyList>(service, 'keys.list', {});
    expect(list.keys.map((k) => k.fingerprint)).toEqual([key.fingerprint]);
    expect(list.defaultPath).toBe(join(base, 'config', 'keys', 'key-2.json'));
  });

  it('a wrong passphrase is WRONG_PASSPHRASE with the hint; lock and unlock', async () => {
    const service = hosts[0]!;
    const locked = await call<KeyList>(service, 'keys.lock', { fingerprint: key.fingerprint });
    expect(locked.keys[0]!.unlocked).toBe(false);
    const wrong = await failure(service, 'keys.unlock', { fingerprint: key.fingerprint, passphrase: 'not it at all' });
    expect(wrong.code).toBe('WRONG_PASSPHRASE');
    expect(wrong.message).toContain('the horse');
    const remember = await failure(service, 'keys.unlock', {
      fingerprint: key.fingerprint,
      passphrase: PASSPHRASE,
      remember: true,
    });
    expect(remember.code).toBe('NOT_AVAILABLE');
    const unlocked = await call<KeyInfo>(service, 'keys.unlock', {
      fingerprint: key.fingerprint,
      passphrase: PASSPHRASE,
    });
    expect(unlocked.unlocked).toBe(true);
  });

  it('backs up encrypted; the rows carry the lock and the fingerprint; a plain backup into the group is refused', async () => {
    const service = hosts[0]!;
    const spec = { kind: 'backup', store, source, id: 'secret', excludes: [] };
    const job = await runJob(service, { ...spec, encrypt: { fingerprint: key.fingerprint } });
    expect(job.status, job.error?.message).toBe('done');
    const groups = await call<GroupRow[]>(service, 'groups.list', { store });
    expect(groups[0]).toMatchObject({ id: 'secret', encrypted: true, keyFingerprint: key.fingerprint });
    const rows = await call<SnapshotRow[]>(service, 'snapshots.list', { store, group: { type: 'host', id: 'secret' } });
    expect(rows[0]).toMatchObject({ encrypted: true, keyFingerprint: key.fingerprint });
    const plain = await runJob(service, spec);
    expect(plain.status).toBe('failed');
    expect(plain.error).toMatchObject({ code: 'KEY_REQUIRED', keyFingerprint: key.fingerprint });
  });

  it('after a restart the key is locked: browse is KEY_REQUIRED, then unlock, then browse and restore work', async () => {
    await hosts[0]!.shutdown();
    const service = start();
    const [row] = await call<SnapshotRow[]>(service, 'snapshots.list', {
      store,
      group: { type: 'host', id: 'secret' },
    });
    const snapshot = { type: 'host', id: 'secret', time: row!.time };
    const needed = await failure(service, 'snapshot.browse', { store, snapshot, path: '' });
    expect(needed).toMatchObject({ code: 'KEY_REQUIRED', keyFingerprint: key.fingerprint });
    const restore = { kind: 'restore', store, snapshot, paths: [''], target: join(base, 'out'), overwrite: false };
    expect(await failure(service, 'jobs.start', restore)).toMatchObject({ code: 'KEY_REQUIRED' });
    await call(service, 'keys.unlock', { fingerprint: key.fingerprint, passphrase: PASSPHRASE });
    const page = await call<FolderPage>(service, 'snapshot.browse', { store, snapshot, path: '' });
    expect(page.entries.map((e) => e.name)).toEqual(['inner']);
    const restored = await runJob(service, restore);
    expect(restored.status, restored.error?.message).toBe('done');
    expect(readFileSync(join(base, 'out', 'inner', 'plan.txt'), 'utf8')).toBe('the plan\n');
    await call(service, 'keys.lock', { fingerprint: key.fingerprint });
    expect(await failure(service, 'snapshot.browse', { store, snapshot, path: 'inner' })).toMatchObject({
      code: 'KEY_REQUIRED',
    });
  });

  it('an encrypted backup with a locked key is refused before it starts', async () => {
    const service = hosts.at(-1)!;
    const spec = {
      kind: 'backup',
      store,
      source,
      id: 'secret',
      excludes: [],
      encrypt: { fingerprint: key.fingerprint },
    };
    expect(await failure(service, 'jobs.start', spec)).toMatchObject({
      code: 'KEY_REQUIRED',
      keyFingerprint: key.fingerprint,
    });
  });

  it('remembers a key through the secret store: sealed on disk, unlocked at the next start, forgotten on request', async () => {
    const secrets = testSecretStore();
    const service = start(secrets);
    const info = await call<KeyInfo>(service, 'keys.unlock', {
      fingerprint: key.fingerprint,
      passphrase: PASSPHRASE,
      remember: true,
    });
    expect(info).toMatchObject({ unlocked: true, remembered: true });
    const file = join(base, 'config', 'remembered-keys.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = start(secrets);
    expect((await call<KeyList>(again, 'keys.list', {})).keys[0]).toMatchObject({ unlocked: true, remembered: true });
    expect((await call<KeyList>(start(testSecretStore(false)), 'keys.list', {})).keys[0]!.unlocked).toBe(false);
    await call(again, 'keys.forget-remembered', { fingerprint: key.fingerprint });
    expect((await call<KeyList>(start(secrets), 'keys.list', {})).keys[0]).toMatchObject({
      unlocked: false,
      remembered: false,
    });
  });

  it('prints the paper key of a key file; refuses one without passphrase', async () => {
    const service = hosts.at(-1)!;
    const page = await call<{ html: string; fileName: string }>(service, 'keys.paper-key', {
      fingerprint: key.fingerprint,
    });
    expect(page.html).toContain('-----BEGIN PROXMOX BACKUP KEY-----');
    expect(page.fileName).toBe(`cairn-paper-key-${key.short.replaceAll(':', '')}.html`);
    const plainPath = join(base, 'plain-key.json');
    const plain = await createKey({ kdf: 'none' });
    writeKeyFile(plainPath, plain.config, { replace: false });
    const added = await call<KeyInfo>(service, 'keys.add', { path: plainPath });
    expect(added).toMatchObject({ kdf: 'none', unlocked: false, isDefault: false });
    expect((await call<KeyList>(service, 'keys.list', {})).keys).toHaveLength(2);
    const refused = await failure(service, 'keys.paper-key', { fingerprint: added.fingerprint });
    expect(refused.message).toContain('without a passphrase');
  });

  it('no answer, event, history or config file holds the raw key', async () => {
    await Promise.all(hosts.map((h) => h.shutdown()));
    const forms = [raw.toString('hex'), raw.toString('base64'), raw.toString('base64url')];
    const everything = [...answers, ...filesUnder(join(base, 'data')), ...filesUnder(join(base, 'config'))];
    expect(answers.length).toBeGreaterThan(20);
    for (const text of everything) for (const form of forms) expect(text).not.toContain(form);
    expect(everything.join('\n')).not.toContain(PASSPHRASE);
  });
});

describe('key actions on a host without a config folder', () => {
  it('answers NOT_AVAILABLE', async () => {
    const base = tempDir('host-nokeys');
    const service = new HostService({ platform: { host: 'web' }, dataDir: join(base, 'data'), allowedRoots: [base] });
    const r = (await service.handle('keys.list', {})) as Result<unknown>;
    expect(r.ok ? undefined : r.error.code).toBe('NOT_AVAILABLE');
    await service.shutdown();
    rmSync(base, { recursive: true, force: true });
  });
});
