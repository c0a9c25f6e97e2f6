import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Plan, PlanInput } from '../../../contract/plans.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import { parseSnapshotPath } from '../../../core/backup/backup-names.js';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { createKey, writeKeyFile, type KeyConfig } from '../../../core/crypto/key-file.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { snapshotKeyFingerprint } from '../../../core/datastore/snapshot-key.js';
import { PlanBook } from '../../../core/plans/plan-book.js';
import { planKeyFrom, planKeyFromFile } from '../../../core/plans/plan-key.js';
import { runPlan } from '../../../core/plans/plan-run.js';
import { storeTempRoot, useSuiteTempDir, useTempDirs } from '../../support/temp.js';

const PASSPHRASE = 'a plan passphrase';

/** A key file as `cairn key create` writes it, and its key. */
async function keyFile(dir: string, name: string, passphrase?: string): Promise<{ path: string; crypt: CryptConfig }> {
  const made = passphrase
    ? await createKey({ kdf: 'pbkdf2', passphrase: Buffer.from(passphrase) })
    : await createKey({ kdf: 'none' });
  const path = join(dir, name);
  writeKeyFile(path, made.config as KeyConfig, { replace: false });
  return { path, crypt: new CryptConfig(made.key) };
}

describe('an encrypted plan', () => {
  const suiteDir = useSuiteTempDir('plan-crypt', storeTempRoot());
  const temp = useTempDirs();
  let storePath: string;
  beforeAll(async () => {
    storePath = join(suiteDir(), 'store');
    await Datastore.create(storePath, { syncLevel: 'none' });
  });

  function plan(input: Partial<PlanInput>): Plan {
    const source = temp('plan-src');
    mkdirSync(join(source, 'inner'));
    writeFileSync(join(source, 'inner', 'ledger.txt'), 'the accounts\n');
    return new PlanBook(temp('plan-config')).add({
      name: `Plan ${Math.random().toString(36).slice(2, 8)}`,
      sources: [{ kind: 'folder', path: source }],
      store: storePath,
      ...input,
    });
  }
  const runtime = { failures: 0, lastGcAt: Date.now(), lastFullVerifyAt: Date.now() };

  it('backs up with the key its source gives, and verifies the new snapshot with it', async () => {
    const key = await keyFile(temp('keys'), 'k.json', PASSPHRASE);
    const p = plan({
      encryption: { keyFingerprint: key.crypt.fingerprint(), keyFile: key.path },
      maintenance: { gcEveryDays: 0, verifyNew: true, fullVerifyEveryDays: 0 },
    });
    const outcome = await runPlan(p, { trigger: 'manual', runtime, key: planKeyFrom([key.crypt]) });
    expect(outcome.run).toMatchObject({ status: 'succeeded', verify: 'ok' });
    const store = Datastore.open(storePath);
    const ref = parseSnapshotPath(outcome.run.snapshot!);
    expect(snapshotKeyFingerprint(store.readManifest(ref))).toBe(key.crypt.fingerprint());
    const reader = new FolderArchiveReader(store.openSnapshot(ref, { crypt: key.crypt }));
    expect(reader.list('inner').map((e) => e.name.toString())).toEqual(['ledger.txt']);
    expect(() => store.openSnapshot(ref)).toThrow(/encrypted/);
  });

  it('headless: a key file without passphrase is read as it is; one with a passphrase takes $CAIRN_PASSPHRASE', async () => {
    const plain = await keyFile(temp('keys'), 'plain.json');
    const p1 = plan({ encryption: { keyFingerprint: plain.crypt.fingerprint(), keyFile: plain.path } });
    expect((await runPlan(p1, { trigger: 'schedule', runtime })).run.status).toBe('succeeded');

    const locked = await keyFile(temp('keys'), 'locked.json', PASSPHRASE);
    const p2 = plan({ encryption: { keyFingerprint: locked.crypt.fingerprint(), keyFile: locked.path } });
    const withEnv = (plan: Plan) => planKeyFromFile(plan, { CAIRN_PASSPHRASE: PASSPHRASE });
    expect((await runPlan(p2, { trigger: 'schedule', runtime, key: withEnv })).run.status).toBe('succeeded');
  });

  it('without the key, the run fails naming the plan and the key, and writes nothing', async () => {
    const locked = await keyFile(temp('keys'), 'locked.json', PASSPHRASE);
    const p = plan({ encryption: { keyFingerprint: locked.crypt.fingerprint(), keyFile: locked.path } });
    const noEnv = (plan: Plan) => planKeyFromFile(plan, {});
    const outcome = await runPlan(p, { trigger: 'schedule', runtime, key: planKeyFrom([], noEnv) });
    expect(outcome.run.status).toBe('failed');
    const short = locked.crypt.fingerprint().split(':').slice(0, 8).join(':');
    expect(outcome.run.error).toContain(`the plan "${p.name}" encrypts with the key ${short}`);
    expect(outcome.run.error).toContain('CAIRN_PASSPHRASE');
    expect(Datastore.open(storePath).listSnapshots({ type: 'host', id: p.groupId })).toEqual([]);
  });

  it('refuses a key file that holds another key now', async () => {
    const dir = temp('keys');
    const first = await keyFile(dir, 'first.json');
    const other = await keyFile(dir, 'other.json');
    const p = plan({ encryption: { keyFingerprint: first.crypt.fingerprint(), keyFile: other.path } });
    const outcome = await runPlan(p, { trigger: 'schedule', runtime });
    expect(outcome.run).toMatchObject({ status: 'failed' });
    expect(outcome.run.error).toMatch(/now holds the key/);
  });
});
