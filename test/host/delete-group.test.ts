import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../contract/errors.js';
import { jobSummary } from '../../contract/job-summary.js';
import type { JobState } from '../../contract/jobs.js';
import type { GroupRow } from '../../contract/model.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { HostService } from '../../host/host-service.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

/** "Delete group" in the app: a job that removes a group's snapshots but its protected ones, and an empty group outright. */
describe('deleting a group through the host', () => {
  const base = tempDir('delete-group', storeTempRoot());
  const service = new HostService({ platform: { host: 'web' }, dataDir: join(base, 'data'), allowedRoots: [base] });
  const store = join(base, 'store');
  const source = join(base, 'docs');

  async function start(spec: unknown): Promise<Result<JobState>> {
    return (await service.handle('jobs.start', spec)) as Result<JobState>;
  }
  async function run(spec: unknown): Promise<JobState> {
    const r = await start(spec);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return service.engine.whenDone(r.value.id);
  }
  async function groups(): Promise<GroupRow[]> {
    const r = (await service.handle('groups.list', { store })) as Result<GroupRow[]>;
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  }

  beforeAll(async () => {
    mkdirSync(source);
    writeFileSync(join(source, 'a.txt'), 'a');
    expect((await run({ kind: 'create-store', path: store, chunkSize: 1024 * 1024, compression: 'zstd' })).status).toBe(
      'done',
    );
    for (let i = 0; i < 3; i++)
      expect((await run({ kind: 'backup', store, source, id: 'docs', excludes: [] })).status).toBe('done');
    // What a cancelled first backup leaves: the group's folder, without a snapshot.
    const ds = Datastore.open(store);
    ds.beginSnapshot({ type: 'host', id: 'cancelled' }).abort();
  });
  afterAll(async () => {
    await service.shutdown();
    rmSync(base, { recursive: true, force: true });
  });

  it('removes an empty group left by a cancelled first backup', async () => {
    expect((await groups()).find((g) => g.id === 'cancelled')).toMatchObject({ snapshotCount: 0 });
    const job = await run({ kind: 'delete-group', store, group: { type: 'host', id: 'cancelled' } });
    expect(job.status, job.error?.message).toBe('done');
    expect(job.title).toBe('Delete group host/cancelled');
    expect(jobSummary(job)).toBe('Deleted the empty group host/cancelled');
    expect((await groups()).map((g) => g.id)).toEqual(['docs']);
    expect(existsSync(join(store, 'host', 'cancelled'))).toBe(false);
  });

  it('removes every snapshot but the protected one, keeping the group for it', async () => {
    const ds = Datastore.open(store);
    const [first] = ds.listSnapshots({ type: 'host', id: 'docs' });
    ds.setProtected(first!, true);
    const job = await run({ kind: 'delete-group', store, group: { type: 'host', id: 'docs' } });
    expect(job.status, job.error?.message).toBe('done');
    expect(jobSummary(job)).toBe(
      'Removed 2 snapshots of host/docs; kept 1 protected snapshot, and the group with it (unprotect it to delete the group)',
    );
    expect(job.result).toMatchObject({ removed: 2, kept: 1 });
    expect(ds.listSnapshots({ type: 'host', id: 'docs' }).map((s) => s.time)).toEqual([first!.time]);

    ds.setProtected(first!, false);
    const again = await run({ kind: 'delete-group', store, group: { type: 'host', id: 'docs' } });
    expect(jobSummary(again)).toBe(
      'Deleted group host/docs (1 snapshot removed). Run garbage collection to free the space of its chunks.',
    );
    expect(await groups()).toEqual([]);
  });

  it('refuses a group that does not exist before a job starts', async () => {
    const r = await start({ kind: 'delete-group', store, group: { type: 'host', id: 'nothing' } });
    expect(!r.ok && r.error.code).toBe('NOT_FOUND');
    const bad = await start({ kind: 'delete-group', store, group: { type: 'host', id: '../x' } });
    expect(!bad.ok && bad.error.code).toBe('INVALID_NAME');
  });
});
