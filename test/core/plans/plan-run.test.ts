import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Plan, PlanInput } from '../../../contract/plans.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { PlanBook } from '../../../core/plans/plan-book.js';
import { runPlan } from '../../../core/plans/plan-run.js';
import { storeTempRoot, useSuiteTempDir, useTempDirs } from '../../support/temp.js';

const DAY = 86_400_000;

describe('a plan run', () => {
  const suiteDir = useSuiteTempDir('plan-run', storeTempRoot());
  const temp = useTempDirs();
  let storePath: string;
  beforeAll(async () => {
    storePath = join(suiteDir(), 'store');
    await Datastore.create(storePath, { syncLevel: 'none' });
  });

  function sourceTree(): string {
    const dir = temp('plan-src');
    writeFileSync(join(dir, 'report.txt'), 'quarterly report\n');
    mkdirSync(join(dir, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'left-pad', 'index.js'), 'module.exports = 1;\n');
    return dir;
  }

  function plan(input: Partial<PlanInput>): Plan {
    return new PlanBook(temp('plan-config')).add({
      name: `Plan ${Math.random().toString(36).slice(2, 8)}`,
      sources: [{ kind: 'folder', path: sourceTree() }],
      store: storePath,
      ...input,
    });
  }

  it('backs up into the plan group with its presets, then applies its retention', async () => {
    const p = plan({ excludePresets: ['node-modules'], retention: { keepLast: 1 } });
    const first = await runPlan(p, { trigger: 'manual', runtime: { failures: 0, lastGcAt: Date.now() } });
    expect(first.run).toMatchObject({ status: 'succeeded', trigger: 'manual', files: 1, pruned: 0 });
    expect(first.run.snapshot).toMatch(new RegExp(`^host/${p.groupId}/`));
    await new Promise((r) => setTimeout(r, 1100)); // snapshot times are whole seconds
    const second = await runPlan(p, { trigger: 'schedule', runtime: { failures: 0, lastGcAt: Date.now() } });
    expect(second.run).toMatchObject({ status: 'succeeded', pruned: 1 });
    const store = Datastore.open(storePath);
    const left = store.listSnapshots({ type: 'host', id: p.groupId });
    expect(left.map((s) => s.path)).toEqual([second.run.snapshot]);
    expect(first.gcAt).toBeUndefined();
  });

  it('runs GC and the full verify when they are due, and verifies the new snapshot when asked', async () => {
    const p = plan({ maintenance: { gcEveryDays: 7, verifyNew: true, fullVerifyEveryDays: 30 } });
    const now = Date.now();
    const due = await runPlan(p, { trigger: 'schedule', runtime: { failures: 0, lastGcAt: now - 8 * DAY } });
    expect(due.run).toMatchObject({ status: 'succeeded', gc: true, verify: 'ok' });
    expect(due.gcAt).toBeGreaterThanOrEqual(now);
    expect(due.fullVerifyAt).toBeGreaterThanOrEqual(now); // never ran: due
    const recent = { failures: 0, lastGcAt: now - DAY, lastFullVerifyAt: now - DAY };
    const notDue = await runPlan(p, { trigger: 'schedule', runtime: recent });
    expect(notDue.run.gc).toBeUndefined();
    expect(notDue.run.verify).toBe('ok'); // the new snapshot only
    expect(notDue.fullVerifyAt).toBeUndefined();
  });

  it('a store that is not there ends the run as missing, a missing source as failed', async () => {
    const gone = plan({ store: join(temp('unplugged'), 'store') });
    const missing = await runPlan(gone, { trigger: 'schedule', runtime: { failures: 0 } });
    expect(missing.storeMissing).toBe(true);

    const p = plan({});
    const noSource = await runPlan(
      { ...p, sources: [{ kind: 'folder', path: join(temp('vanished'), 'docs') }] },
      { trigger: 'schedule', runtime: { failures: 0, lastGcAt: Date.now() } },
    );
    expect(noSource).toMatchObject({ storeMissing: false, run: { status: 'failed' } });
    expect(noSource.run.error).toMatch(/docs/);
  });

  it('refuses to back up another folder into a group that records one', async () => {
    const p = plan({});
    await runPlan(p, { trigger: 'manual', runtime: { failures: 0, lastGcAt: Date.now() } });
    const other = { ...p, sources: [{ kind: 'folder' as const, path: sourceTree() }] };
    const refused = await runPlan(other, { trigger: 'manual', runtime: { failures: 0, lastGcAt: Date.now() } });
    expect(refused.run.status).toBe('failed');
    expect(refused.run.error).toMatch(new RegExp(`holds backups of .*, which the plan "${p.name}" never backed up`));
  });

  it("backs up the new folder into its group after the plan's source was edited (the folder moved)", async () => {
    const config = temp('plan-config');
    const book = new PlanBook(config);
    const p = book.add({ name: 'Moving', sources: [{ kind: 'folder', path: sourceTree() }], store: storePath });
    await runPlan(p, { trigger: 'manual', runtime: { failures: 0, lastGcAt: Date.now() } });
    const moved = book.edit(p.id, { sources: [{ kind: 'folder', path: sourceTree() }] });
    expect(moved.formerSources).toEqual([p.sources[0]!.path]);
    const after = await runPlan(moved, { trigger: 'manual', runtime: { failures: 0, lastGcAt: Date.now() } });
    expect(after.run).toMatchObject({ status: 'succeeded' });
  });

  it('a cancelled run says so', async () => {
    const p = plan({});
    const controller = new AbortController();
    controller.abort();
    const cancelled = await runPlan(p, { trigger: 'manual', runtime: { failures: 0 }, signal: controller.signal });
    expect(cancelled.run.status).toBe('cancelled');
  });
});
