import { readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../contract/errors.js';
import type { JobState } from '../../contract/jobs.js';
import type { GroupRow, SourceCheck } from '../../contract/model.js';
import { SOURCE_FILE } from '../../core/datastore/group-source.js';
import { HostService } from '../../host/host-service.js';
import { cairn, expectCliError } from '../support/processes.js';
import { put } from '../support/tree.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

/**
 * Two folders of the same name derive the same group id: a group records its source and refuses another, so a
 * keep-last-1 prune can never delete one folder's only backup because the other was backed up after it.
 */
describe('a group records the folder it backs up', () => {
  let base = '';
  let store = '';
  let first = '';
  let second = '';
  const snapshots = () => readdirSync(join(store, 'host', 'project')).filter((n) => /^\d{4}-/.test(n));

  beforeAll(async () => {
    base = tempDir('group-source', storeTempRoot());
    store = join(base, 'store');
    first = join(base, 'Code', 'project');
    second = join(base, 'other', 'project');
    put(first, 'main.c', 'int main() {}');
    put(second, 'notes.txt', 'another folder of the same name');
    expect((await cairn(['init', store, '--sync', 'none'])).code).toBe(0);
    expect((await cairn(['backup', store, first])).code).toBe(0);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('the CLI refuses another folder of the same name, says what the group holds and suggests an id', async () => {
    const r = await cairn(['backup', store, second]);
    expectCliError(
      r,
      new RegExp(
        `host/project holds backups of ${first}; ${second} is another source.*id "other-project".*--allow-other-source`,
      ),
    );
    expect(snapshots()).toHaveLength(1);
    const groups = await cairn(['groups', store, '--json']);
    expect(JSON.parse(groups.stdout)[0].source).toEqual({ host: expect.any(String), paths: [first] });
  });

  it('the same folder reached through a symlinked parent is the same source', async () => {
    const link = join(base, 'link-to-code');
    symlinkSync(join(base, 'Code'), link);
    const r = await cairn(['backup', store, join(link, 'project')]);
    expect(r.code, r.stderr).toBe(0);
    expect(snapshots()).toHaveLength(2);
  });

  it('--allow-other-source backs up a moved folder and the group records its new place', async () => {
    const r = await cairn(['backup', store, second, '--allow-other-source']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/host\/project now records .*other\/project as its source \(it was .*Code\/project\)/);
    expect(JSON.parse(readFileSync(join(store, 'host', 'project', SOURCE_FILE), 'utf8')).paths).toEqual([second]);
    expectCliError(await cairn(['backup', store, first]), /host\/project holds backups of .*other\/project/);
  });

  it('an image backup checks its group the same way', async () => {
    put(base, 'disks/a/vm.img', 'a'.repeat(4096));
    put(base, 'disks/b/vm.img', 'b'.repeat(4096));
    expect((await cairn(['backup-image', store, join(base, 'disks/a/vm.img')])).code).toBe(0);
    expectCliError(
      await cairn(['backup-image', store, join(base, 'disks/b/vm.img')]),
      /host\/vm holds backups of .*disks\/a\/vm\.img.*id "b-vm"/,
    );
  });

  it('a group made before sources were recorded takes the next backup and records its source', async () => {
    unlinkSync(join(store, 'host', 'project', SOURCE_FILE));
    expect((await cairn(['backup', store, first])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(store, 'host', 'project', SOURCE_FILE), 'utf8')).paths).toEqual([first]);
  });

  it('the app asks before the backup starts, refuses the job without consent and runs it with', async () => {
    const service = new HostService({ platform: { host: 'web' }, dataDir: join(base, 'data'), allowedRoots: [base] });
    const call = async <T>(action: string, payload: unknown): Promise<Result<T>> =>
      (await service.handle(action, payload)) as Result<T>;
    const check = await call<SourceCheck>('backup.check-source', { store, source: second, id: 'project' });
    expect(check).toEqual({ ok: true, value: { matches: false, recorded: first, suggestedId: 'other-project' } });
    expect(await call<SourceCheck>('backup.check-source', { store, source: first, id: 'project' })).toEqual({
      ok: true,
      value: { matches: true },
    });
    expect(await call<SourceCheck>('backup.check-source', { store, source: second, id: 'fresh' })).toEqual({
      ok: true,
      value: { matches: true },
    });

    const refused = await call<JobState>('jobs.start', {
      kind: 'backup',
      store,
      source: second,
      id: 'project',
      excludes: [],
    });
    expect(refused.ok ? 'started' : refused.error.code).toBe('SOURCE_MISMATCH');
    const before = snapshots().length;
    const started = await call<JobState>('jobs.start', {
      kind: 'backup',
      store,
      source: second,
      id: 'project',
      excludes: [],
      allowOtherSource: true,
    });
    if (!started.ok) throw new Error(started.error.message);
    expect((await service.engine.whenDone(started.value.id)).status).toBe('done');
    expect(snapshots()).toHaveLength(before + 1);
    const groups = await call<GroupRow[]>('groups.list', { store });
    expect(groups.ok && groups.value.find((g) => g.id === 'project')?.source).toBe(second);
    await service.shutdown();
  });
});
