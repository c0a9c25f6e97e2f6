import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../../contract/plans.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { MemoryLogger } from '../../../core/log.js';
import { PlanBook } from '../../../core/plans/plan-book.js';
import { runPlanInChild } from '../../../core/scheduler/run-in-child.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { storeTempRoot, useSuiteTempDir } from '../../support/temp.js';

describe('a plan run in a child process', () => {
  const dir = useSuiteTempDir('run-in-child', storeTempRoot());
  let plan: Plan;
  beforeAll(async () => {
    const source = join(dir(), 'src');
    mkdirSync(source);
    writeFileSync(join(source, 'a.txt'), 'a');
    writeFileSync(join(source, 'big.bin'), pseudoRandomBytes(64 << 20, 'child'));
    await Datastore.create(join(dir(), 'store'), { syncLevel: 'none' });
    plan = new PlanBook(join(dir(), 'config')).add({
      name: 'Child',
      sources: [{ kind: 'folder', path: source }],
      store: join(dir(), 'store'),
      maintenance: { gcEveryDays: 0, verifyNew: false, fullVerifyEveryDays: 0 },
    });
  });

  it('backs up and sends its outcome and log lines back', async () => {
    const log = new MemoryLogger();
    const outcome = await runPlanInChild(plan, 'manual', { failures: 0 }, new AbortController().signal, log);
    expect(outcome.run).toMatchObject({ status: 'succeeded', files: 2 });
    expect(log.lines[0]!.message).toMatch(/^plan "Child": run in process \d+$/);
  });

  it('a child killed mid-run is a failed run that says so; a cancel is a cancelled run', async () => {
    const log = new MemoryLogger();
    const running = runPlanInChild(plan, 'schedule', { failures: 0 }, new AbortController().signal, {
      info: (m) => {
        log.info(m);
        // Killed as soon as it exists, before it can send an outcome (a backup of unchanged files takes ~100 ms).
        const pid = /run in process (\d+)/.exec(m)?.[1];
        if (pid) process.kill(Number(pid), 'SIGKILL');
      },
      warn: (m) => log.warn(m),
    });
    const killed = await running;
    expect(killed.run).toMatchObject({ status: 'failed', trigger: 'schedule' });
    expect(killed.run.error).toMatch(/was killed \(SIGKILL\) before it finished/);

    // Cancelled at once: the child gets the run, then the cancel, while 64 MiB of new data keep it busy.
    const controller = new AbortController();
    writeFileSync(join(plan.sources[0]!.path, 'big2.bin'), pseudoRandomBytes(64 << 20, 'child2'));
    const cancelling = runPlanInChild(plan, 'manual', { failures: 0 }, controller.signal, new MemoryLogger());
    controller.abort();
    const cancelled = await cancelling;
    expect(cancelled.run.status).toBe('cancelled');
  });
});
