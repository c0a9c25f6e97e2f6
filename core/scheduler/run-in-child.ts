import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Plan, RunTrigger } from '../../contract/plans.js';
import { workerScriptUrl } from '../jobs/worker-url.js';
import type { Logger } from '../log.js';
import type { PlanRunOutcome } from '../plans/plan-run.js';
import type { PlanRuntime } from '../plans/plan-runtime.js';
import type { ChildMessage, ChildRequest } from './plan-run-child.js';

/** How long a cancelled run may take to clean up (remove its unfinished snapshot) before it is killed. */
const CANCEL_GRACE_MS = 30_000;

/**
 * Runs a plan in a child process (plan-run-child.ts) and resolves with its outcome; a child that dies without
 * one (killed, out of memory) is a failed run that says how it ended. Cancelling asks the child to stop and
 * kills it if it has not after CANCEL_GRACE_MS.
 */
export function runPlanInChild(
  plan: Plan,
  trigger: RunTrigger,
  runtime: PlanRuntime,
  signal: AbortSignal,
  log: Logger,
): Promise<PlanRunOutcome> {
  const startedAt = Date.now();
  const child = fork(fileURLToPath(workerScriptUrl(import.meta.url, './plan-run-child.js')), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  log.info(`plan "${plan.name}": run in process ${child.pid}`);
  let outcome: PlanRunOutcome | undefined;
  child.on('message', (message: ChildMessage) => {
    if (message.type === 'log') log[message.level](message.message);
    else outcome = message.outcome;
  });
  const onAbort = (): void => {
    if (child.connected) child.send({ type: 'cancel' }, () => undefined); // gone already: its exit tells
    setTimeout(() => child.kill('SIGKILL'), CANCEL_GRACE_MS).unref();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  // A child that died at once (killed, could not start) fails the send; its exit says how the run ended.
  child.on('error', (err) => log.warn(`plan "${plan.name}": its run's process: ${err.message}`));
  child.send({ type: 'run', plan, trigger, runtime } satisfies ChildRequest, (err) => {
    if (err) log.warn(`plan "${plan.name}": could not hand the run to its process: ${err.message}`);
  });
  return new Promise((resolve) => {
    child.once('exit', (code, killedBy) => {
      signal.removeEventListener('abort', onAbort);
      resolve(outcome ?? diedOutcome(trigger, startedAt, code, killedBy, signal.aborted));
    });
  });
}

function diedOutcome(
  trigger: RunTrigger,
  startedAt: number,
  code: number | null,
  killedBy: NodeJS.Signals | null,
  cancelled: boolean,
): PlanRunOutcome {
  const how = killedBy ? `was killed (${killedBy})` : `exited with code ${code}`;
  const run = { startedAt, endedAt: Date.now(), trigger };
  if (cancelled) return { run: { ...run, status: 'cancelled' }, storeMissing: false };
  return {
    run: {
      ...run,
      status: 'failed',
      error: `the run's process ${how} before it finished; the backup did not complete`,
    },
    storeMissing: false,
  };
}
