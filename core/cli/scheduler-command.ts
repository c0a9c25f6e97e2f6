import { formatTime, plural } from '../../contract/format.js';
import type { Plan, PlanStatus } from '../../contract/plans.js';
import type { Logger } from '../log.js';
import { cairnConfigDir } from '../plans/config-dir.js';
import type { PlanRunOutcome } from '../plans/plan-run.js';
import { runPlanInChild } from '../scheduler/run-in-child.js';
import { SchedulerService, type SchedulerRole } from '../scheduler/scheduler-service.js';
import { SCHEDULER_COMMAND_OPTIONS } from './command-options.js';
import type { CommandContext } from './store-commands.js';
import { UsageError } from './usage-error.js';
import { installSchedulerUnit, UNIT_NAME } from './systemd-unit.js';

/**
 * `cairn scheduler`: the headless scheduler. In the foreground it runs the SchedulerService (one per user: on
 * standby while the app or another `cairn scheduler` holds the lock) until SIGINT or SIGTERM, running plans in
 * this process and logging one line per event on stdout. `--once` runs what is due and exits (cron, systemd
 * timers); `--install-unit` writes a systemd user unit that runs it.
 */

export { SCHEDULER_COMMAND_OPTIONS };

export interface SchedulerCommandContext extends Omit<CommandContext, 'values'> {
  values: { 'install-unit'?: boolean; once?: boolean; json?: boolean };
}

export async function schedulerCommand(args: string[], ctx: SchedulerCommandContext): Promise<number> {
  if (args.length > 0) throw new UsageError(`scheduler takes no ${JSON.stringify(args[0])}`);
  if (ctx.values['install-unit']) {
    if (ctx.values.once) throw new UsageError('--install-unit only writes the unit: give it without --once');
    return installUnit(ctx);
  }
  if (!ctx.values.once) restartWithSmallYoungGeneration();
  const log = eventLog(ctx.values.json === true);
  const runs = { count: 0, failed: 0, incomplete: 0 };
  const service = newService(ctx.values.once ? 'cairn scheduler --once' : 'cairn scheduler', log, runs);
  const stopped = stopSignal(ctx.signal).then(async (name) => {
    log.info(`${name}: stopping (a running backup is cancelled and runs again at its next time)`);
    await service.stop();
  });
  return ctx.values.once ? once(service, log, runs) : foreground(service, log, stopped);
}

/** V8's young generation for a process that idles: 1 MiB semi-spaces instead of the default 16 (about 5 MiB less). */
const SMALL_YOUNG_GENERATION = '--max-semi-space-size=1';

/**
 * The scheduler waits for days and runs each plan in a child process: it needs no room for a backup's
 * allocations. V8 sizes its heap at start, so the process replaces itself once (execve: same pid, same
 * stdout) with the flag set; where execve does not exist it runs as it is.
 */
function restartWithSmallYoungGeneration(): void {
  if (process.execArgv.includes(SMALL_YOUNG_GENERATION) || typeof process.execve !== 'function') return;
  const args = [SMALL_YOUNG_GENERATION, ...process.execArgv, ...process.argv.slice(1)];
  try {
    process.execve(process.execPath, [process.execPath, ...args], process.env);
  } catch {
    // Not allowed here (a sandbox): the scheduler runs with the default heap.
  }
}

interface RunCounts {
  count: number;
  failed: number;
  /** Runs that made their snapshot without some entries they could not read. */
  incomplete: number;
}

function newService(where: string, log: Logger, runs: RunCounts): SchedulerService {
  const service: SchedulerService = new SchedulerService({
    configDir: cairnConfigDir(),
    where,
    log,
    onRole: (role, holder) => log.info(roleMessage(service, role, holder)),
    notify: (n) => log.info(`notification: ${n.title}: ${n.body}`),
    // Each run in a process of its own: the scheduler that idles for days stays small.
    runPlan: async (plan, trigger, runtime, signal): Promise<PlanRunOutcome> => {
      const outcome = await runPlanInChild(plan, trigger, runtime, signal, planLog(log, plan));
      runs.count++;
      if (!outcome.storeMissing && outcome.run.status === 'failed') runs.failed++;
      if (outcome.run.status === 'succeeded' && outcome.run.leftOut) runs.incomplete++;
      return outcome;
    },
  });
  return service;
}

async function foreground(service: SchedulerService, log: Logger, stopped: Promise<void>): Promise<number> {
  log.info(`cairn scheduler starts (pid ${process.pid}; plans in ${service.book.file})`);
  // The standby poll does not keep the process alive by itself (it is unref'd for the app's sake).
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    service.start();
    await stopped;
  } finally {
    clearInterval(keepAlive);
  }
  return 0;
}

/**
 * One look: what is due runs; exit code 1 if a run failed, else 3 if one left entries out (a cron job or a
 * systemd timer then says so).
 */
async function once(service: SchedulerService, log: Logger, runs: RunCounts): Promise<number> {
  const result = await service.runOnce();
  if (!result.ran) {
    log.info(`another scheduler runs plans (${result.holder}); nothing run here`);
    return 0;
  }
  log.info(
    runs.count === 0
      ? 'no plan was due'
      : `done: ${plural(runs.count, 'run')}${runs.failed > 0 ? `, ${runs.failed} failed` : ''}` +
          (runs.incomplete > 0 ? `, ${runs.incomplete} incomplete (entries could not be read)` : ''),
  );
  if (runs.failed > 0) return 1;
  return runs.incomplete > 0 ? 3 : 0;
}

function roleMessage(service: SchedulerService, role: SchedulerRole, holder: string | undefined): string {
  if (role === 'standby') return `another scheduler runs plans (${holder ?? 'unknown'}); standing by`;
  if (role === 'stopped') return 'stopped';
  return `active: this scheduler runs the plans${nextPlanText(service)}`;
}

/** "; 2 plans, next: "Docs" at 2026-11-24 12:00:00", or nothing if the plans cannot be read (the scheduler says why). */
function nextPlanText(service: SchedulerService): string {
  let plans: Plan[];
  let statuses: PlanStatus[];
  try {
    plans = service.book.list();
    statuses = service.scheduler.status();
  } catch {
    return '';
  }
  const now = Date.now();
  const next = statuses.filter((s) => s.nextRunAt !== undefined).sort((a, b) => a.nextRunAt! - b.nextRunAt!)[0];
  const plan = plans.find((p) => p.id === next?.planId);
  const when = (at: number) => (at <= now ? 'due now' : `at ${formatTime(at / 1000)}`);
  const nextText = plan && next?.nextRunAt !== undefined ? `, next: "${plan.name}" ${when(next.nextRunAt)}` : '';
  return `; ${plural(plans.length, 'plan')}${nextText}`;
}

/** Resolves with the signal's name at the first SIGINT (the CLI's cancel signal) or SIGTERM (systemctl stop). */
function stopSignal(cancel: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    if (cancel.aborted) resolve('SIGINT');
    cancel.addEventListener('abort', () => resolve('SIGINT'), { once: true });
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/** One line per event on stdout, with the time: "2026-11-24 03:00:01 plan "Docs": schedule run starts". */
function eventLog(json: boolean): Logger {
  const line = (level: 'info' | 'warn', message: string): void => {
    const now = Date.now();
    process.stdout.write(
      json
        ? `${JSON.stringify({ time: new Date(now).toISOString(), level, message })}\n`
        : `${formatTime(now / 1000)} ${level === 'warn' ? 'warning: ' : ''}${message}\n`,
    );
  };
  return { info: (m) => line('info', m), warn: (m) => line('warn', m) };
}

/** A run's own warnings (a file skipped), named by their plan. */
function planLog(log: Logger, plan: Plan): Logger {
  return { info: () => {}, warn: (m) => log.warn(`plan "${plan.name}": ${m}`) };
}

function installUnit(ctx: SchedulerCommandContext): number {
  const { path, unit } = installSchedulerUnit();
  const commands = [
    'systemctl --user daemon-reload',
    `systemctl --user enable --now ${UNIT_NAME.replace(/\.service$/, '')}`,
  ];
  ctx.print(
    { path, unit, commands },
    `Wrote ${path}.\nTo start the scheduler now and at every login, run:\n${commands.map((c) => `  ${c}`).join('\n')}\n` +
      `Its log: journalctl --user -u ${UNIT_NAME}`,
  );
  return 0;
}
