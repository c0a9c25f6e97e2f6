import type { Plan, RunTrigger } from '../../contract/plans.js';
import { runPlan } from '../plans/plan-run.js';
import type { PlanRuntime } from '../plans/plan-runtime.js';
import { keyFileProvider } from '../plans/plan-key.js';
import { keepYoungGenerationSmall } from '../jobs/heap-flags.js';

/**
 * One plan run in a process of its own, started by the headless scheduler (run-in-child.ts) over an IPC
 * channel: it gets the plan, runs it, sends its log lines and its outcome, and exits. The scheduler itself
 * never loads the backup code, and the memory a large backup takes goes back when the run ends.
 */
export interface ChildRequest {
  type: 'run';
  plan: Plan;
  trigger: RunTrigger;
  runtime: PlanRuntime;
}

export type ChildMessage =
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  | { type: 'done'; outcome: Awaited<ReturnType<typeof runPlan>> };

keepYoungGenerationSmall();
const controller = new AbortController();
const send = (message: ChildMessage): void => void process.send?.(message);

process.on('message', (message: ChildRequest | { type: 'cancel' }) => {
  if (message.type === 'cancel') {
    controller.abort();
    return;
  }
  void runPlan(message.plan, {
    trigger: message.trigger,
    runtime: message.runtime,
    // A scheduler without the app has no key ring: the key file itself ($CAIRN_PASSPHRASE if it has one).
    keys: keyFileProvider(process.env),
    signal: controller.signal,
    log: {
      info: (m) => send({ type: 'log', level: 'info', message: m }),
      warn: (m) => send({ type: 'log', level: 'warn', message: m }),
    },
  }).then((outcome) => {
    send({ type: 'done', outcome });
    process.disconnect?.();
  });
});
// The scheduler went away: nobody would record the run, so stop it cleanly.
process.on('disconnect', () => controller.abort());
