// The idle scheduler: how often it wakes and how much memory the headless one keeps, with three plans that are
// not due. Its decisions are counted over a simulated day (fake clock, real plan files); the real process's
// wake-ups are its threads' context switches over a measured minute, which also count the lock's refresh.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlanInput } from '../../contract/plans.js';
import { PlanBook } from '../../core/plans/plan-book.js';
import { PlanRuntimeFile } from '../../core/plans/plan-runtime.js';
import { RunHistory } from '../../core/plans/run-history.js';
import { Scheduler, type SchedulerClock } from '../../core/scheduler/scheduler.js';
import { removeTree, tempDir } from '../support/temp.js';

const HOUR_MS = 3_600_000;
const MEASURE_MS = Number(process.env.CAIRN_BENCH_SCHEDULER_MS ?? 60_000);
const cli = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../cli/cairn.js');

const PLANS: (Partial<PlanInput> & { name: string })[] = [
  { name: 'Nightly', schedule: { kind: 'daily', at: '03:00' } },
  { name: 'Weekdays', schedule: { kind: 'weekly', days: ['mon', 'tue', 'wed', 'thu', 'fri'], at: '18:30' } },
  { name: 'Hourly', schedule: { kind: 'interval', every: 1, unit: 'hours' } },
];

function makePlans(dir: string, now: number): void {
  const book = new PlanBook(dir);
  const runtime = new PlanRuntimeFile(dir);
  for (const p of PLANS) {
    const plan = book.add({ sources: [{ kind: 'folder', path: '/nonexistent' }], store: '/nonexistent', ...p }, now);
    runtime.update(plan.id, (r) => ({ ...r, lastSlot: now, lastSuccessAt: now })); // just ran: none is due
  }
}

/** A clock that jumps to each timer: a day passes in milliseconds. */
class JumpingClock implements SchedulerClock {
  private timers = new Map<number, { at: number; run: () => void }>();
  private id = 0;
  constructor(public time: number) {}
  now = (): number => this.time;
  setTimeout = (run: () => void, ms: number): unknown => {
    this.timers.set(++this.id, { at: this.time + ms, run });
    return this.id;
  };
  clearTimeout = (handle: unknown): void => void this.timers.delete(handle as number);
  runUntil(end: number): void {
    for (;;) {
      const [id, next] = [...this.timers.entries()].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
      if (id === undefined || !next || next.at > end) break;
      this.timers.delete(id);
      this.time = next.at;
      next.run();
    }
  }
}

async function simulatedWakeupsPerHour(storePresent: boolean): Promise<number> {
  const dir = tempDir('bench-scheduler-sim');
  try {
    const start = Date.now();
    makePlans(dir, start);
    const clock = new JumpingClock(start);
    const book = new PlanBook(dir);
    const scheduler = new Scheduler({
      book,
      runtime: new PlanRuntimeFile(dir),
      history: new RunHistory(dir),
      clock,
      storePresent: () => storePresent,
      runPlan: (_plan, trigger) => {
        const at = clock.now();
        return Promise.resolve({
          run: { startedAt: at, endedAt: at, trigger, status: 'succeeded' },
          storeMissing: false,
        });
      },
    });
    scheduler.start();
    // Not due: the plans "just ran"; the hourly one falls due within the hour and then waits for its store.
    clock.runUntil(start + 24 * HOUR_MS);
    await new Promise((r) => setImmediate(r));
    void scheduler.stop();
    return scheduler.wakeups / 24;
  } finally {
    removeTree(dir);
  }
}

function contextSwitches(pid: number): number {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
    for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) total += Number(m[1]);
  }
  return total;
}

function rssMiB(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

async function headlessIdle(): Promise<{ rss: number; switchesPerHour: number }> {
  const dir = tempDir('bench-scheduler');
  makePlans(dir, Date.now());
  const child = spawn(process.execPath, [cli, 'scheduler'], {
    env: { ...process.env, CAIRN_CONFIG_DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((ok, fail) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('active') && ok());
      child.once('exit', () => fail(new Error('cairn scheduler exited')));
    });
    await new Promise((r) => setTimeout(r, 3_000)); // start-up settles
    const before = contextSwitches(child.pid!);
    await new Promise((r) => setTimeout(r, MEASURE_MS));
    const switches = contextSwitches(child.pid!) - before;
    return { rss: rssMiB(child.pid!), switchesPerHour: (switches * HOUR_MS) / MEASURE_MS };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    removeTree(join(dir));
  }
}

export async function schedulerIdleBench(): Promise<void> {
  console.log('\n== Idle scheduler, three plans (daily, weekdays, hourly) ==');
  console.log(
    `  decisions over a simulated day: ${(await simulatedWakeupsPerHour(true)).toFixed(1)} wake-ups per hour ` +
      `with every store there, ${(await simulatedWakeupsPerHour(false)).toFixed(1)} with the stores unplugged ` +
      '(a stat a minute while a due plan waits for its drive)',
  );
  const idle = await headlessIdle();
  console.log(
    `  cairn scheduler: RSS ${idle.rss.toFixed(0)} MiB (goal < 80), ${idle.switchesPerHour.toFixed(0)} context ` +
      `switches per hour over ${MEASURE_MS / 1000} s (all threads; the lock's refresh every 2 s included)`,
  );
}
