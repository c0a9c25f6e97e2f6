import { describe, expect, it } from 'vitest';
import { PlanRuntimeFile } from '../../../core/plans/plan-runtime.js';
import { useChildScripts } from '../../support/processes.js';
import { useTempDirs } from '../../support/temp.js';

describe('PlanRuntimeFile', () => {
  const temp = useTempDirs();
  const child = useChildScripts();

  it('remove forgets one plan and keeps the others; prune keeps the plans named', () => {
    const file = new PlanRuntimeFile(temp('runtime'));
    for (const id of ['a', 'b', 'c']) file.update(id, (r) => ({ ...r, lastSlot: 1000 }));
    file.remove('b');
    expect(Object.keys(file.all())).toEqual(['a', 'c']);
    file.prune(['c']);
    expect(file.all()).toEqual({ c: { failures: 0, lastSlot: 1000 } });
    file.remove('none');
    expect(file.get('c').lastSlot).toBe(1000);
  });

  it('prune and remove wait for an update another process is making (prune failed at once with LOCKED)', async () => {
    const dir = temp('runtime');
    const file = new PlanRuntimeFile(dir);
    file.update('a', (r) => ({ ...r, lastSlot: 1 }));
    file.update('gone', (r) => ({ ...r, lastSlot: 2 }));
    const holder = await child(`
      const { acquireExclusiveLock } = await load('core/locks/process-lock.js');
      const lock = acquireExclusiveLock(${JSON.stringify(dir)}, 'plan-runtime', 'a test update');
      ready('held');
      setTimeout(() => { lock.release(); process.exit(0); }, 400);
    `);
    expect(holder.message).toBe('held');
    file.prune(['a']);
    expect(Object.keys(file.all())).toEqual(['a']);
  });
});
