import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../contract/errors.js';
import { jobAdvice, jobSummary } from '../../contract/job-summary.js';
import type { JobState } from '../../contract/jobs.js';
import type { SnapshotRow } from '../../contract/model.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { HostService } from '../../host/host-service.js';
import { pseudoRandomBytes } from '../support/data.js';
import { listRecursive } from '../support/store-files.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

/**
 * A job that found damage is not a green "Done": a verify that found a damaged chunk, and a restore that had to
 * leave a damaged file out, end as "attention", name the files, and say how to repair.
 */
describe('the app reports damage as damage', () => {
  const base = tempDir('damage', storeTempRoot());
  const service = new HostService({
    platform: { host: 'web' },
    dataDir: join(base, 'data'),
    allowedRoots: [base],
    plans: { configDir: join(base, 'config'), where: 'the test host' },
  });
  const store = join(base, 'store');
  const source = join(base, 'Documents');
  const group = { type: 'host' as const, id: 'Documents' };
  let snapshot = { ...group, time: 0 };

  async function run(spec: unknown): Promise<JobState> {
    const r = (await service.handle('jobs.start', spec)) as Result<JobState>;
    if (!r.ok) throw new Error(r.error.message);
    return service.engine.whenDone(r.value.id);
  }

  beforeAll(async () => {
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'a.txt'), 'before the damage');
    writeFileSync(join(source, 'big.bin'), pseudoRandomBytes(3 * 1024 * 1024, 'damage'));
    writeFileSync(join(source, 'z.txt'), 'after the damage');
    expect((await run({ kind: 'create-store', path: store, chunkSize: 1024 * 1024, compression: 'zstd' })).status).toBe(
      'done',
    );
    expect((await run({ kind: 'backup', store, source, id: 'Documents', excludes: [] })).status).toBe('done');
    snapshot = { ...group, time: Datastore.open(store).latestSnapshot(group)!.time };
    // The largest chunk holds a part of big.bin (random data does not compress; the small files share a tiny one).
    const chunks = listRecursive(join(store, '.chunks')).filter((p) => /[0-9a-f]{64}$/.test(p));
    const largest = chunks
      .map((p) => join(store, '.chunks', p))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const bytes = readFileSync(largest);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(largest, bytes);
  });
  afterAll(async () => {
    await service.shutdown();
    rmSync(base, { recursive: true, force: true });
  });

  it('a verify that finds a damaged chunk needs attention, names the file and says to back up the folder again', async () => {
    const job = await run({ kind: 'verify', store, snapshot });
    expect(job.status).toBe('attention');
    expect(jobSummary(job)).toMatch(/0 of 1 snapshot ok, 1 damaged/);
    expect(job.problemCount).toBe(1);
    expect(job.problems![0]!.path).toMatch(/^host\/Documents\/.+: \/big\.bin$/);
    // The advice arrives as fields: the group to back up again, named by its source; the app words it.
    expect(job.advice).toEqual({ kind: 'verify', groups: [{ group: 'host/Documents', source }] });
    expect(jobAdvice(job)).toContain(`Back up ${source} (host/Documents) again`);
    const rows = (await service.handle('snapshots.list', { store, group })) as Result<SnapshotRow[]>;
    expect(rows.ok && rows.value[0]!.verifyState).toBe('failed');
  });

  it('a restore past a damaged chunk restores the rest, names the damaged file, and needs attention', async () => {
    const target = join(base, 'restored');
    mkdirSync(target);
    const job = await run({ kind: 'restore', store, snapshot, paths: [''], target, overwrite: false });
    expect(job.status).toBe('attention');
    expect(jobSummary(job)).toMatch(/^Restored 2 files .*; 1 entry of host\/Documents\/.+ could not be restored$/);
    expect(job.problems).toEqual([{ path: '/big.bin', message: expect.stringMatching(/chunk [0-9a-f]+/) }]);
    expect(job.advice).toEqual({ kind: 'restore', groups: [{ group: 'host/Documents', source }] });
    expect(jobAdvice(job)).toContain(`back up ${source} (host/Documents) again`);
    expect(readFileSync(join(target, 'a.txt'), 'utf8')).toBe('before the damage');
    expect(readFileSync(join(target, 'z.txt'), 'utf8')).toBe('after the damage');
  });

  it("a plan's run whose verify finds the damage needs attention and says which folders to back up again", async () => {
    service.startScheduler();
    // The damaged data is gone from the folder, so the run's backup cannot write the chunk anew: the full verify
    // of the group (due at a plan's first run) finds it in the earlier snapshot.
    writeFileSync(join(source, 'big.bin'), 'changed since');
    const input = {
      name: 'Documents',
      sources: [{ kind: 'folder', path: source }],
      store,
      schedule: { kind: 'manual' },
    };
    expect((await service.handle('plans.save', { input })).ok).toBe(true);
    expect((await service.handle('plans.run-now', { planId: 'documents' })).ok).toBe(true);
    let job: JobState | undefined;
    for (let i = 0; i < 400 && !job; i++) {
      job = service.engine.list().find((j) => j.kind === 'plan-run');
      if (!job) await new Promise((r) => setTimeout(r, 50));
    }
    const done = await service.engine.whenDone(job!.id);
    expect(done.status).toBe('attention');
    expect(done.result).toMatchObject({ kind: 'plan-run', verify: 'damaged' });
    expect(done.problems).toEqual([{ path: 'host/Documents', message: 'verify found damaged or missing chunks' }]);
    expect(done.advice).toEqual({ kind: 'verify', groups: [{ group: 'host/Documents', source }] });
    expect(jobAdvice(done)).toContain(`Back up ${source} (host/Documents) again`);
  });

  it('a restore of a whole snapshot with no damage is done', async () => {
    writeFileSync(join(source, 'big.bin'), 'small now');
    expect((await run({ kind: 'backup', store, source, id: 'Documents', excludes: [] })).status).toBe('done');
    const latest = Datastore.open(store).latestSnapshot(group)!;
    const target = join(base, 'restored-clean');
    mkdirSync(target);
    const job = await run({
      kind: 'restore',
      store,
      snapshot: { ...group, time: latest.time },
      paths: [''],
      target,
      overwrite: false,
    });
    expect(job.status).toBe('done');
    expect(job.problems).toBeUndefined();
  });
});
