import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobState } from '../../contract/jobs.js';
import type { SnapshotRow } from '../../contract/model.js';
import { HostService } from '../../host/host-service.js';
import { pseudoRandomBytes } from '../support/data.js';
import { tempDir, storeTempRoot } from '../support/temp.js';
import { call } from '../support/host-calls.js';

/**
 * Jobs that fail in each phase inside one long-lived host: every failure path releases what it took, so the same
 * host then forgets, prunes and backs up the same group (a failed job's locks stayed held "by" the idle host).
 */
describe('a job that fails inside a long-lived host leaves no lock behind', () => {
  const base = tempDir('failed-jobs', storeTempRoot());
  const service = new HostService({ platform: { host: 'web' }, dataDir: join(base, 'data'), allowedRoots: [base] });
  const store = join(base, 'store');
  const source = join(base, 'Documents');
  const group = { type: 'host', id: 'Documents' };

  beforeAll(async () => {
    mkdirSync(source, { recursive: true });
    for (let i = 0; i < 6; i++)
      writeFileSync(join(source, `big-${i}.bin`), pseudoRandomBytes(24 * 1024 * 1024, `failed-${i}`));
    const created = await run({ kind: 'create-store', path: store, chunkSize: 1024 * 1024, compression: 'zstd' });
    expect(created.status, created.error?.message).toBe('done');
    expect((await run(backupSpec())).status).toBe('done');
  });
  afterAll(async () => {
    await service.shutdown();
    rmSync(base, { recursive: true, force: true });
  });

  function backupSpec() {
    return { kind: 'backup', store, source, id: 'Documents', excludes: [] };
  }

  async function run(spec: unknown, during?: (job: JobState) => Promise<void>): Promise<JobState> {
    const job = await call<JobState>(service, 'jobs.start', spec);
    if (during) await during(job);
    return service.engine.whenDone(job.id);
  }

  /** Waits until the running job reports `phase` (with some bytes done, for the backing-up phase). */
  async function untilPhase(job: JobState, phase: string): Promise<void> {
    for (;;) {
      const now = service.engine.list().find((j) => j.id === job.id)!;
      if (now.status !== 'running') return;
      if (now.progress.phase === phase && (phase !== 'backing-up' || (now.progress.bytesDone ?? 0) > 0)) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** What a user does next with the same group: forget, prune and back up; each must work. */
  async function useTheGroupAgain(): Promise<void> {
    const rows = await call<SnapshotRow[]>(service, 'snapshots.list', { store, group });
    for (const row of rows.filter((r) => !r.finished)) {
      await call(service, 'snapshot.forget', { store, snapshot: { ...group, time: row.time } });
    }
    const pruned = await run({ kind: 'prune', store, group, keep: { keepLast: 1 } });
    expect(pruned.status, pruned.error?.message).toBe('done');
    const again = await run(backupSpec());
    expect(again.status, again.error?.message).toBe('done');
  }

  it('cancelled while scanning, and while backing up', async () => {
    for (const phase of ['scanning', 'backing-up']) {
      const job = await run(backupSpec(), async (j) => {
        await untilPhase(j, phase);
        await call(service, 'jobs.cancel', { jobId: j.id });
      });
      expect(job.status, phase).toMatch(/cancelled|done/);
      await useTheGroupAgain();
    }
  });

  it('the source folder vanishes while it is backed up', async () => {
    writeFileSync(join(source, 'changed.bin'), pseudoRandomBytes(1024, String(Date.now())));
    const job = await run(backupSpec(), async (j) => {
      await untilPhase(j, 'backing-up');
      renameSync(source, `${source}.away`);
    });
    renameSync(`${source}.away`, source);
    expect(job.status).toMatch(/failed|done/);
    await useTheGroupAgain();
  });

  it('the store vanishes while a backup runs, and comes back', async () => {
    // New data to write, so the backup is still writing chunks when the store goes.
    writeFileSync(join(source, 'changed.bin'), pseudoRandomBytes(64 * 1024 * 1024, String(Date.now())));
    const job = await run(backupSpec(), async (j) => {
      await untilPhase(j, 'backing-up');
      renameSync(store, `${store}.unplugged`);
    });
    expect(job.status).toBe('failed');
    renameSync(`${store}.unplugged`, store);
    await useTheGroupAgain();
  });
});
