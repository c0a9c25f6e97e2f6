import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Result } from '../../contract/errors.js';
import type { JobState } from '../../contract/jobs.js';
import type { KeyRing, KeyRow } from '../../contract/keys.js';
import type { FolderPage, GroupRow, SnapshotRow } from '../../contract/model.js';
import { HostService } from '../../host/host-service.js';
import type { SecretStore } from '../../host/remembered-keys.js';
import { createKey, decryptKey, readKeyFile, writeKeyFile } from '../../core/crypto/key-file.js';
import { call, failure } from '../support/host-calls.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

const PASSPHRASE = 'correct horse battery';

/** A stand-in for the OS keychain: AES-GCM under a key of this test run. */
function fakeSecretStore(): SecretStore {
  const key = randomBytes(32);
  return {
    available: () => true,
    seal: (bytes) => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(bytes), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    open: (sealed) => {
      const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      d.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([d.update(sealed.subarray(28)), d.final()]);
    },
  };
}

/** Every answer the service gives goes into `answers`, as the renderer would receive it. */
function recordingService(base: string, secretStore?: SecretStore) {
  const answers: string[] = [];
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
  return { service, answers };
}

async function runJob(service: HostService, spec: unknown): Promise<JobState> {
  const job = await call<JobState>(service, 'jobs.start', spec);
  return service.engine.whenDone(job.id);
}

describe('the host key ring on a real store', () => {
  const base = tempDir('host-keys', storeTempRoot());
  const store = join(base, 'store');
  const source = join(base, 'Secret Plans');
  const secrets = fakeSecretStore();
  let session = recordingService(base, secrets);
  let key: KeyRow;
  /** The raw key of the key file without passphrase the test adds. */
  let plainRaw: Buffer = Buffer.alloc(0);
  const group = { type: 'host', id: 'secret-plans' } as const;

  beforeAll(async () => {
    mkdirSync(join(source, 'inner'), { recursive: true });
    writeFileSync(join(source, 'plan.txt'), 'the plan\n');
    writeFileSync(join(source, 'inner', 'deep.txt'), 'deeper\n');
    const created = await runJob(session.service, {
      kind: 'create-store',
      path: store,
      chunkSize: 1024 * 1024,
      compression: 'zstd',
    });
    expect(created.status).toBe('done');
  });
  afterAll(async () => {
    await session.service.shutdown();
    rmSync(base, { recursive: true, force: true });
  });

  const browse = (service = session.service) =>
    service.handle('snapshot.browse', { store, snapshot: { ...group, time: snapshotTime }, path: '' });
  let snapshotTime = 0;

  it('creates the default key, unlocked, and lists it without its bytes', async () => {
    const empty = await call<KeyRing>(session.service, 'keys.list', {});
    expect(empty.keys).toEqual([]);
    expect(empty.remember).toEqual({ available: true });
    key = await call<KeyRow>(session.service, 'keys.create', { passphrase: PASSPHRASE, hint: 'a horse' });
    expect(key).toMatchObject({ path: empty.defaultPath, kdf: 'scrypt', unlocked: true, isDefault: true });
    expect(key.short).toBe(key.fingerprint!.slice(0, 23));
    expect(statSync(key.path).mode & 0o777).toBe(0o600);
    const again = await failure(session.service, 'keys.create', { passphrase: PASSPHRASE });
    expect(again.code).toBe('ALREADY_EXISTS');
    const short = await failure(session.service, 'keys.create', { path: join(base, 'k.json'), passphrase: 'abc' });
    expect(short.code).toBe('INVALID_ARGUMENT');
  });

  it('backs up encrypted; rows carry the lock and the fingerprint; browsing works while unlocked', async () => {
    const job = await runJob(session.service, {
      kind: 'backup',
      store,
      source,
      id: group.id,
      excludes: [],
      encrypt: { keyFingerprint: key.fingerprint },
    });
    expect(job.status, job.error?.message).toBe('done');
    const [snap] = await call<SnapshotRow[]>(session.service, 'snapshots.list', { store, group });
    expect(snap).toMatchObject({ encrypted: true, keyFingerprint: key.fingerprint });
    snapshotTime = snap!.time;
    const [row] = await call<GroupRow[]>(session.service, 'groups.list', { store });
    expect(row).toMatchObject({ encrypted: true, keyFingerprint: key.fingerprint });
    const page = (await browse()) as Result<FolderPage>;
    expect(page.ok && page.value.entries.map((e) => e.name)).toEqual(['inner', 'plan.txt']);
  });

  it('locked: browse and restore answer KEY_REQUIRED naming the key; a plain backup is refused', async () => {
    const locked = await call<KeyRow>(session.service, 'keys.lock', { fingerprint: key.fingerprint });
    expect(locked.unlocked).toBe(false);
    const r = await browse();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatchObject({ code: 'KEY_REQUIRED', keyFingerprint: key.fingerprint });
    const restore = await failure(session.service, 'jobs.start', {
      kind: 'restore',
      store,
      snapshot: { ...group, time: snapshotTime },
      paths: [''],
      target: join(base, 'restored'),
      overwrite: false,
    });
    expect(restore).toMatchObject({ code: 'KEY_REQUIRED', keyFingerprint: key.fingerprint });
    const backup = await failure(session.service, 'jobs.start', {
      kind: 'backup',
      store,
      source,
      id: group.id,
      excludes: [],
      encrypt: { keyFingerprint: key.fingerprint },
    });
    expect(backup.code).toBe('KEY_REQUIRED');
    const plain = await failure(session.service, 'jobs.start', {
      kind: 'backup',
      store,
      source,
      id: group.id,
      excludes: [],
    });
    expect(plain).toMatchObject({ code: 'KEY_REQUIRED', keyFingerprint: key.fingerprint });
  });

  it('a wrong passphrase is WRONG_PASSPHRASE with the hint; the right one unlocks and browsing works again', async () => {
    const wrong = await failure(session.service, 'keys.unlock', {
      fingerprint: key.fingerprint,
      passphrase: 'not it!',
    });
    expect(wrong.code).toBe('WRONG_PASSPHRASE');
    expect(wrong.message).toContain('a horse');
    const missing = await failure(session.service, 'keys.unlock', { fingerprint: key.fingerprint });
    expect(missing.code).toBe('INVALID_ARGUMENT');
    const row = await call<KeyRow>(session.service, 'keys.unlock', {
      fingerprint: key.fingerprint!.toUpperCase(),
      passphrase: PASSPHRASE,
    });
    expect(row.unlocked).toBe(true);
    expect((await browse()).ok).toBe(true);
  });

  it('restores and verifies with the unlocked key', async () => {
    const target = join(base, 'restored');
    const job = await runJob(session.service, {
      kind: 'restore',
      store,
      snapshot: { ...group, time: snapshotTime },
      paths: [''],
      target,
      overwrite: false,
    });
    expect(job.status, job.error?.message).toBe('done');
    expect(readFileSync(join(target, 'inner', 'deep.txt'), 'utf8')).toBe('deeper\n');
    const verified = await runJob(session.service, { kind: 'verify', store });
    expect(verified.status, verified.error?.message).toBe('done');
    expect(verified.result).toMatchObject({ kind: 'verify', ok: true, failed: 0 });
  });

  it('gives the paper key page', async () => {
    const { html } = await call<{ html: string }>(session.service, 'keys.paper-key', { fingerprint: key.fingerprint });
    expect(html).toContain('-----BEGIN PROXMOX BACKUP KEY-----');
    expect(html).toContain('<svg');
  });

  it('adds a key file without passphrase, which unlocks without one', async () => {
    const { config, key: raw } = await createKey({ kdf: 'none' });
    plainRaw = raw;
    const file = join(base, 'elsewhere', 'plain.json');
    mkdirSync(join(base, 'elsewhere'));
    writeKeyFile(file, config, { replace: false });
    const added = await call<KeyRow>(session.service, 'keys.add', { path: file });
    expect(added).toMatchObject({ kdf: 'none', unlocked: false, isDefault: false });
    const unlocked = await call<KeyRow>(session.service, 'keys.unlock', { fingerprint: added.fingerprint });
    expect(unlocked.unlocked).toBe(true);
    // Its paper key would be the raw key: the app does not hand it to the renderer.
    const paper = await failure(session.service, 'keys.paper-key', { fingerprint: added.fingerprint });
    expect(paper.code).toBe('INVALID_ARGUMENT');
    const ring = await call<KeyRing>(session.service, 'keys.list', {});
    expect(ring.keys.map((k) => k.path)).toEqual([key.path, file]);
    const outside = await failure(session.service, 'keys.add', { path: '/etc/passwd' });
    expect(outside.code).toBe('PATH_NOT_ALLOWED');
  });

  it('remembers a key sealed (0600) and unlocks it on the next start; lock with forget drops it', async () => {
    await call(session.service, 'keys.unlock', {
      fingerprint: key.fingerprint,
      passphrase: PASSPHRASE,
      remember: true,
    });
    const file = join(base, 'config', 'keys', 'remembered-keys.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await session.service.shutdown();
    session = recordingService(base, secrets);
    const [row] = (await call<KeyRing>(session.service, 'keys.list', {})).keys;
    expect(row).toMatchObject({ unlocked: true, remembered: true });
    expect((await browse()).ok).toBe(true);
    // Forgotten on this computer, the key stays unlocked for the session, and is locked at the next start.
    const forgotten = await call<KeyRow>(session.service, 'keys.forget-remembered', { fingerprint: key.fingerprint });
    expect(forgotten).toMatchObject({ unlocked: true, remembered: false });
    await session.service.shutdown();
    session = recordingService(base, secrets);
    expect((await call<KeyRing>(session.service, 'keys.list', {})).keys[0]).toMatchObject({ unlocked: false });
    await call(session.service, 'keys.unlock', {
      fingerprint: key.fingerprint,
      passphrase: PASSPHRASE,
      remember: true,
    });
    await call(session.service, 'keys.lock', { fingerprint: key.fingerprint, forget: true });
    await session.service.shutdown();
    session = recordingService(base, secrets);
    expect((await call<KeyRing>(session.service, 'keys.list', {})).keys[0]).toMatchObject({
      unlocked: false,
      remembered: false,
    });
  });

  it('the desktop save dialogs ask for a locked key before they open', async () => {
    const pickSaveFile = vi.fn(async () => join(base, 'saved.txt'));
    const desktop = new HostService({
      platform: { host: 'electron', pickSaveFile },
      dataDir: join(base, 'desktop-data'),
      allowedRoots: [base],
      keys: { configDir: join(base, 'config') },
    });
    const snapshot = { ...group, time: snapshotTime };
    const file = await failure(desktop, 'dialog.save-file', { store, snapshot, path: 'plan.txt' });
    expect(file).toMatchObject({ code: 'KEY_REQUIRED', keyFingerprint: key.fingerprint });
    const image = await failure(desktop, 'dialog.save-image', { store, snapshot });
    expect(image.code).toBe('KEY_REQUIRED');
    expect(pickSaveFile).not.toHaveBeenCalled();
    await desktop.shutdown();
  });

  it('without a secret store, "remember" is not offered and refused', async () => {
    const plain = recordingService(base);
    const ring = await call<KeyRing>(plain.service, 'keys.list', {});
    expect(ring.remember.available).toBe(false);
    const r = await failure(plain.service, 'keys.unlock', {
      fingerprint: key.fingerprint,
      passphrase: PASSPHRASE,
      remember: true,
    });
    expect(r.code).toBe('NOT_AVAILABLE');
    await plain.service.shutdown();
  });

  it('no answer, event, history or file of the app holds the key bytes', async () => {
    await session.service.shutdown();
    const { key: raw } = await decryptKey(readKeyFile(key.path), Buffer.from(PASSPHRASE), key.path);
    const needles = [raw, plainRaw].flatMap((k) => [k.toString('hex'), k.toString('base64'), k.toString('base64url')]);
    const files = [join(base, 'data', 'job-history.json'), ...listFiles(join(base, 'config'))].filter(
      (f) => !f.endsWith('default.json'),
    );
    expect(files).toContain(join(base, 'data', 'job-history.json'));
    const texts = [...session.answers, ...files.map((f) => readFileSync(f, 'latin1'))];
    for (const text of texts) for (const needle of needles) expect(text).not.toContain(needle);
    expect(files.some((f) => readFileSync(f).includes(raw))).toBe(false);
    expect(plainRaw.length).toBe(32);
    expect(texts.join('\n')).not.toContain(PASSPHRASE);
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}
