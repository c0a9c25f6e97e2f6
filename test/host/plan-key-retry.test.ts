import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyRow } from '../../contract/keys.js';
import type { PlanDetails, PlanNotice, PlanRun } from '../../contract/plans.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { HostService } from '../../host/host-service.js';
import { call, failure } from '../support/host-calls.js';
import { createKey, writeKeyFile } from '../../core/crypto/key-file.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

const PASSPHRASE = 'plans with a key';

/**
 * A scheduled plan whose run failed for want of its key: the failure notice names the key, and unlocking the key
 * in the app brings the waiting retry forward, so the plan backs up at once without "Back up now".
 */
describe('encrypted plans in the app host: retried once their key is unlocked; a key file of another key refused', () => {
  const base = tempDir('host-plan-retry', storeTempRoot());
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
    // Daily, half a day away: only "Back up now" and retries run it during the test (a manual plan is never retried).
    const later = new Date(Date.now() + 12 * 3_600_000);
    const at = `${String(later.getHours()).padStart(2, '0')}:${String(later.getMinutes()).padStart(2, '0')}`;
    await call(service, 'plans.save', {
      input: {
        name: 'Accounts',
        sources: [{ kind: 'folder', path: source }],
        store,
        schedule: { kind: 'daily', at },
        maintenance: { gcEveryDays: 0, verifyNew: false, fullVerifyEveryDays: 0 },
        encryption: { keyFingerprint: key.fingerprint, keyFile: key.path },
      },
    });
  });
  afterAll(async () => {
    await service.shutdown();
    rmSync(base, { recursive: true, force: true });
  });

  /** The newest run once the history has more than `count` runs and the plan no longer runs. */
  async function runAfter(count: number): Promise<PlanRun> {
    for (let i = 0; i < 400; i++) {
      const details = await call<PlanDetails>(service, 'plans.get', { planId: 'accounts' });
      if (details.runs.length > count && details.status.state !== 'running') return details.runs[0]!;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no new run was recorded');
  }

  it('fails with the key locked (the notice names it), and runs again as a retry once it is unlocked', async () => {
    await call(service, 'keys.lock', { fingerprint: key.fingerprint });
    await call(service, 'plans.run-now', { planId: 'accounts' });
    const failed = await runAfter(0);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain(`the plan "Accounts" encrypts with the key ${key.short}`);
    expect(notices.find((n) => n.kind === 'failed')?.body).toContain(key.short!);
    const details = await call<PlanDetails>(service, 'plans.get', { planId: 'accounts' });
    expect(details.status.state).toBe('failing');

    await call(service, 'keys.unlock', { fingerprint: key.fingerprint, passphrase: PASSPHRASE });
    const retried = await runAfter(1);
    expect(retried).toMatchObject({ status: 'succeeded', trigger: 'retry' });
    expect(notices.some((n) => n.kind === 'recovered')).toBe(true);
  });

  it('refuses to save a plan whose key file holds another key, saying which', async () => {
    const other = join(base, 'other.json');
    const { config } = await createKey({ kdf: 'none' });
    writeKeyFile(other, config, { replace: false });
    const refused = await failure(service, 'plans.save', {
      input: {
        name: 'Mixed up',
        sources: [{ kind: 'folder', path: source }],
        store,
        schedule: { kind: 'manual' },
        encryption: { keyFingerprint: key.fingerprint, keyFile: other },
      },
    });
    expect(refused.code).toBe('WRONG_KEY');
    expect(refused.message).toContain(`not ${key.short}`);
  });
});
