import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobState } from '../../contract/jobs.js';
import type { KeyRow } from '../../contract/keys.js';
import type { PlanView } from '../../contract/plans.js';
import { parseSnapshotPath } from '../../core/backup/backup-names.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { snapshotKeyFingerprint } from '../../core/datastore/snapshot-key.js';
import { HostService } from '../../host/host-service.js';
import { call } from '../support/host-calls.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

/** Runs "Back up now" and waits for the plan's job to end. */
async function runNow(service: HostService, planId: string): Promise<JobState> {
  const before = service.engine.list().filter((j) => j.kind === 'plan-run').length;
  await call(service, 'plans.run-now', { planId });
  for (let i = 0; i < 400; i++) {
    const jobs = service.engine.list().filter((j) => j.kind === 'plan-run');
    if (jobs.length > before) return service.engine.whenDone(jobs[0]!.id);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the plan did not start');
}

describe('the app runs a plan that encrypts with a key of its key ring', () => {
  const base = tempDir('host-plan-keys', storeTempRoot());
  const configDir = join(base, 'config');
  const store = join(base, 'store');
  const source = join(base, 'Papers');
  let service: HostService;
  let key: KeyRow;

  beforeAll(async () => {
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'deed.txt'), 'the house\n');
    await Datastore.create(store, { syncLevel: 'none' });
    service = new HostService({
      platform: { host: 'web' },
      dataDir: join(base, 'data'),
      allowedRoots: [base],
      plans: { configDir, where: 'the test host' },
      keys: { configDir },
    });
    service.startScheduler();
    key = await call<KeyRow>(service, 'keys.create', { passphrase: 'plan passphrase' });
    await call<PlanView>(service, 'plans.save', {
      input: {
        name: 'Papers',
        sources: [{ kind: 'folder', path: source }],
        store,
        schedule: { kind: 'manual' },
        maintenance: { gcEveryDays: 0, verifyNew: true, fullVerifyEveryDays: 0 },
        encryption: { keyFingerprint: key.fingerprint, keyFile: key.path },
      },
    });
  });
  afterAll(async () => {
    await service.shutdown();
    rmSync(base, { recursive: true, force: true });
  });

  it('backs up encrypted with the unlocked key, and verifies with it', async () => {
    const done = await runNow(service, 'papers');
    expect(done.status, done.error?.message).toBe('done');
    expect(done.result).toMatchObject({ kind: 'plan-run', verify: 'ok' });
    const snapshot = (done.result as { snapshot: string }).snapshot;
    expect(snapshotKeyFingerprint(Datastore.open(store).readManifest(parseSnapshotPath(snapshot)))).toBe(
      key.fingerprint,
    );
  });

  it('with the key locked, the run fails as "key locked", naming the plan and saying how to unlock', async () => {
    await call(service, 'keys.lock', { fingerprint: key.fingerprint });
    const failed = await runNow(service, 'papers');
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toContain('key locked: the plan "Papers" encrypts with the key');
    expect(failed.error?.message).toContain('unlock it in the app');
  });
});
