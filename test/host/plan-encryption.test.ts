import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyRow } from '../../contract/keys.js';
import type { PlanDetails, PlanNotice, PlanView } from '../../contract/plans.js';
import { parseSnapshotPath } from '../../core/backup/backup-names.js';
import { CryptConfig } from '../../core/blob/crypt-config.js';
import { createKey, decryptKey, readKeyFile, writeKeyFile } from '../../core/crypto/key-file.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { snapshotKeyFingerprint } from '../../core/datastore/snapshot-key.js';
import { HostService } from '../../host/host-service.js';
import { call, failure } from '../support/host-calls.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

const PASSPHRASE = 'plans with a key';

/**
 * An encrypted plan in the app host: its runs take the key the host has unlocked; with the key locked the run
 * fails saying which plan and key (and a notice tells it), and the next run after unlocking succeeds.
 */
describe('an encrypted plan in the app host', () => {
  const base = tempDir('host-plan-keys', storeTempRoot());
  const store = join(base, 'store');
  const source = join(base, 'Accounts');
  const configDir = join(base, 'config');
  const notices: PlanNotice[] = [];
  let service: HostService;
  let key: KeyRow;

  beforeAll(async () => {
    mkdirSync(source);
    writeFileSync(join(source, 'ledger.txt'), 'the accounts\n');
    await Datastore.create(store, { syncLevel: 'none' });
    service = new HostService({
      platform: { host: 'web' },
      dataDir: join(base, 'data'),
      allowedRoots: [base],
      plans: { configDir, where: 'the test host' },
      keys: { configDir },
    });
    service.subscribe((event, payload) => {
      if (event === 'plan.notice') notices.push(payload as PlanNotice);
    });
    service.startScheduler();
    key = await call<KeyRow>(service, 'keys.create', { passphrase: PASSPHRASE });
  });
  afterAll(async () => service.shutdown());

  /** The newest run once the history has more than `count` runs and the plan no longer runs. */
  async function lastRunOnceMore(count: number): Promise<PlanDetails['runs'][number]> {
    for (let i = 0; i < 400; i++) {
      const details = await call<PlanDetails>(service, 'plans.get', { planId: 'accounts' });
      if (details.runs.length > count && details.status.state !== 'running') return details.runs[0]!;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no new run was recorded');
  }

  /** "Back up now", then the run as the plan's history has it once recorded. */
  async function runNow(): Promise<PlanDetails['runs'][number]> {
    const before = (await call<PlanDetails>(service, 'plans.get', { planId: 'accounts' })).runs.length;
    await call(service, 'plans.run-now', { planId: 'accounts' });
    for (let i = 0; i < 400; i++) {
      const details = await call<PlanDetails>(service, 'plans.get', { planId: 'accounts' });
      if (details.runs.length > before && details.status.state !== 'running') return details.runs[0]!;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the run was not recorded');
  }

  it('saves the plan with a key the host knows (its file as the key ring has it), and refuses an unknown key', async () => {
    // Daily, half a day away: only "Back up now" and retries run it during the test (a manual plan is never retried).
    const later = new Date(Date.now() + 12 * 3_600_000);
    const at = `${String(later.getHours()).padStart(2, '0')}:${String(later.getMinutes()).padStart(2, '0')}`;
    const input = {
      name: 'Accounts',
      sources: [{ kind: 'folder', path: source }],
      store,
      schedule: { kind: 'daily', at },
      maintenance: { gcEveryDays: 0, verifyNew: true, fullVerifyEveryDays: 0 },
    };
    const unknown = await failure(service, 'plans.save', {
      input: { ...input, encryption: { keyFingerprint: `${'ab:'.repeat(31)}ab`, keyFile: key.path } },
    });
    expect(unknown).toMatchObject({ code: 'NOT_FOUND' });
    expect(unknown.message).toContain('add it in Keys');
    const saved = await call<PlanView>(service, 'plans.save', {
      input: { ...input, encryption: { keyFingerprint: key.fingerprint!.toUpperCase(), keyFile: join(base, 'x') } },
    });
    expect(saved.plan.encryption).toEqual({ keyFingerprint: key.fingerprint, keyFile: key.path });
  });

  it('keeps a key file the app does not list (a plan made with cairn plan add --keyfile) when it holds that key', async () => {
    const { config, key: raw } = await createKey({ kdf: 'none' });
    const file = join(base, 'cli-key.json');
    writeKeyFile(file, config, { replace: false });
    const fingerprint = new CryptConfig(raw).fingerprint();
    const input = {
      name: 'From the CLI',
      sources: [{ kind: 'folder', path: source }],
      store,
      schedule: { kind: 'manual' },
    };
    const saved = await call<PlanView>(service, 'plans.save', {
      input: { ...input, encryption: { keyFingerprint: fingerprint, keyFile: file } },
    });
    expect(saved.plan.encryption).toEqual({ keyFingerprint: fingerprint, keyFile: file });
    const elsewhere = await failure(service, 'plans.save', {
      planId: saved.plan.id,
      input: { ...input, encryption: { keyFingerprint: fingerprint, keyFile: '/etc/passwd' } },
    });
    expect(elsewhere.code).toBe('PATH_NOT_ALLOWED');
    await call(service, 'plans.remove', { planId: saved.plan.id });
  });

  it('runs with the unlocked key: the snapshot is encrypted with it and verified', async () => {
    const run = await runNow();
    expect(run).toMatchObject({ status: 'succeeded', verify: 'ok' });
    const ds = Datastore.open(store);
    expect(snapshotKeyFingerprint(ds.readManifest(parseSnapshotPath(run.snapshot!)))).toBe(key.fingerprint);
  });

  it('with the key locked the run fails naming the plan and the key, a notice says so; unlocked, it recovers', async () => {
    await call(service, 'keys.lock', { fingerprint: key.fingerprint });
    const failed = await runNow();
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain(`the plan "Accounts" encrypts with the key ${key.short}`);
    expect(failed.error).toContain('unlock it in the app');
    const notice = notices.find((n) => n.kind === 'failed');
    expect(notice?.body).toContain(key.short!);

    // Unlocking brings the failed run's retry forward: it runs at once, without "Back up now".
    await call(service, 'keys.unlock', { fingerprint: key.fingerprint, passphrase: PASSPHRASE });
    const retried = await lastRunOnceMore(2);
    expect(retried).toMatchObject({ status: 'succeeded', trigger: 'retry' });
    expect(notices.some((n) => n.kind === 'recovered')).toBe(true);
  });

  it('keeps the raw key out of the job history and the plan files', async () => {
    await service.shutdown();
    const { key: raw } = await decryptKey(readKeyFile(key.path), Buffer.from(PASSPHRASE), key.path);
    const files = [join(base, 'data', 'job-history.json'), join(configDir, 'plans.json')];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const form of [raw.toString('hex'), raw.toString('base64')]) expect(text).not.toContain(form);
    }
  });
});
