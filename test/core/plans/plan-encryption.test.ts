import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Plan, PlanInput } from '../../../contract/plans.js';
import { parseSnapshotPath } from '../../../core/backup/backup-names.js';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { shortFingerprint } from '../../../core/crypto/fingerprint.js';
import { createKey, decryptKey, readKeyFile, writeKeyFile } from '../../../core/crypto/key-file.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { snapshotCryptMode, snapshotKeyFingerprint } from '../../../core/datastore/snapshot-key.js';
import { PlanBook } from '../../../core/plans/plan-book.js';
import { keyFileProvider } from '../../../core/plans/plan-key.js';
import { runPlan } from '../../../core/plans/plan-run.js';
import { storeTempRoot, useSuiteTempDir, useTempDirs } from '../../support/temp.js';

describe('a plan that encrypts its backups', () => {
  const suiteDir = useSuiteTempDir('plan-crypt', storeTempRoot());
  const temp = useTempDirs();
  let storePath: string;
  let plainKey: { file: string; fingerprint: string };
  let passKey: { file: string; fingerprint: string };
  beforeAll(async () => {
    storePath = join(suiteDir(), 'store');
    await Datastore.create(storePath, { syncLevel: 'none' });
    const keyFile = async (name: string, passphrase?: string) => {
      const { config } = await createKey(
        passphrase ? { kdf: 'pbkdf2', passphrase: Buffer.from(passphrase) } : { kdf: 'none' },
      );
      const file = join(suiteDir(), name);
      writeKeyFile(file, config, { replace: false });
      return { file, fingerprint: config.fingerprint! };
    };
    plainKey = await keyFile('plain.json');
    passKey = await keyFile('pass.json', 'open sesame');
  });

  function plan(input: Partial<PlanInput>): Plan {
    const dir = temp('src');
    writeFileSync(join(dir, 'letter.txt'), 'dear diary\n');
    return new PlanBook(temp('config')).add({
      name: `Plan ${Math.random().toString(36).slice(2, 8)}`,
      sources: [{ kind: 'folder', path: dir }],
      store: storePath,
      maintenance: { gcEveryDays: 0, verifyNew: true, fullVerifyEveryDays: 0 },
      ...input,
    });
  }
  const runtime = { failures: 0 };
  const manifestOf = (snapshot: string) => Datastore.open(storePath).readManifest(parseSnapshotPath(snapshot));

  it('encrypts with a key file without passphrase, and verifies the new snapshot with that key', async () => {
    const p = plan({ encryption: { keyFingerprint: plainKey.fingerprint, keyFile: plainKey.file } });
    const { run } = await runPlan(p, { trigger: 'manual', runtime, keys: keyFileProvider({}) });
    expect(run).toMatchObject({ status: 'succeeded', verify: 'ok' });
    const manifest = manifestOf(run.snapshot!);
    expect(snapshotCryptMode(manifest)).toBe('encrypt');
    expect(snapshotKeyFingerprint(manifest)).toBe(plainKey.fingerprint);
  });

  it('a key with a passphrase and no $CAIRN_PASSPHRASE fails the run as "key locked", naming the plan and key', async () => {
    const p = plan({ encryption: { keyFingerprint: passKey.fingerprint, keyFile: passKey.file } });
    const { run } = await runPlan(p, { trigger: 'schedule', runtime, keys: keyFileProvider({}) });
    expect(run.status).toBe('failed');
    expect(run.error).toContain('key locked');
    expect(run.error).toContain(p.name);
    expect(run.error).toContain(shortFingerprint(passKey.fingerprint));
    expect(run.error).toContain('CAIRN_PASSPHRASE');
    expect(Datastore.open(storePath).listSnapshots({ type: 'host', id: p.groupId })).toEqual([]);
  });

  it('opens a key with $CAIRN_PASSPHRASE; a wrong one or a file of another key fails the run', async () => {
    const p = plan({ encryption: { keyFingerprint: passKey.fingerprint, keyFile: passKey.file } });
    const good = await runPlan(p, {
      trigger: 'manual',
      runtime,
      keys: keyFileProvider({ CAIRN_PASSPHRASE: 'open sesame' }),
    });
    expect(good.run.status, good.run.error).toBe('succeeded');
    const wrong = await runPlan(p, {
      trigger: 'manual',
      runtime,
      keys: keyFileProvider({ CAIRN_PASSPHRASE: 'nope!' }),
    });
    expect(wrong.run).toMatchObject({ status: 'failed' });
    expect(wrong.run.error).toMatch(/wrong passphrase/);
    const other = plan({ encryption: { keyFingerprint: passKey.fingerprint, keyFile: plainKey.file } });
    const mixed = await runPlan(other, { trigger: 'manual', runtime, keys: keyFileProvider({}) });
    expect(mixed.run.error).toContain(`holds the key ${shortFingerprint(plainKey.fingerprint)}`);
  });

  it('takes the key from the provider its runner gives (the app: its unlocked key)', async () => {
    const p = plan({ encryption: { keyFingerprint: passKey.fingerprint, keyFile: join(suiteDir(), 'gone.json') } });
    const { key } = await decryptKey(readKeyFile(passKey.file), Buffer.from('open sesame'), passKey.file);
    const crypt = new CryptConfig(key);
    const { run } = await runPlan(p, { trigger: 'manual', runtime, keys: async () => crypt });
    expect(run.status, run.error).toBe('succeeded');
    expect(snapshotKeyFingerprint(manifestOf(run.snapshot!))).toBe(passKey.fingerprint);
  });
});
