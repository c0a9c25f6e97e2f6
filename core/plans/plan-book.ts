import { randomBytes } from 'node:crypto';
import { resolve, join } from 'node:path';
import { z } from 'zod';
import { planInputSchema, planSchema, type Plan, type PlanInput } from '../../contract/plans.js';
import { toBackupId } from '../backup/backup-names.js';
import { CairnError } from '../errors.js';
import { readJsonFile, writeJsonFileAtomic } from '../fs/json-file.js';
import { acquireExclusiveLock } from '../locks/process-lock.js';
import { withLock } from '../locks/with-lock.js';
import type { Logger } from '../log.js';
import { assertPlanGroupFree } from './plan-group.js';
import { assertValidSchedule } from './schedule.js';

export const PLANS_FILE = 'plans.json';
const SETTINGS_VERSION = 1;
const PlansFile = z.strictObject({ version: z.literal(SETTINGS_VERSION), plans: z.array(planSchema) });

/** How long an edit waits for another process's edit of the same file (they take milliseconds). */
const EDIT_WAIT_MS = 5_000;
/** How many former sources a plan keeps, at the least. */
const FORMER_SOURCES = 10;

/**
 * The user's backup plans, in one versioned JSON file in the config folder. Every change is a read, a change
 * and an atomic write under a lock, so the CLI, the app and the scheduler can edit at the same time without
 * losing one another's changes. A file of the wrong shape is an error naming it; it is never reset.
 */
export class PlanBook {
  readonly file: string;

  constructor(
    readonly configDir: string,
    private readonly log?: Logger,
  ) {
    this.file = join(configDir, PLANS_FILE);
  }

  list(): Plan[] {
    return readJsonFile(this.file, PlansFile, 'a plans file')?.plans ?? [];
  }

  /** A plan by id, or by name (case-insensitive) when no id matches; NOT_FOUND says which plans exist. */
  get(idOrName: string): Plan {
    return findPlan(this.list(), idOrName);
  }

  add(input: PlanInput, now = Date.now()): Plan {
    return this.change((plans) => {
      const plan = newPlan(parseInput(input), plans, now);
      return { plans: [...plans, plan], result: plan };
    });
  }

  /**
   * Applies `patch` to the plan's input fields; the id, group and creation time stay. A function gets the plan
   * as it is under the lock, so a patch of one nested field (a maintenance setting) keeps another edit's.
   */
  edit(idOrName: string, patch: Partial<PlanInput> | ((plan: Plan) => Partial<PlanInput>)): Plan {
    return this.change((plans) => {
      const old = findPlan(plans, idOrName);
      const { id, groupId, createdAt, formerSources, ...input } = old;
      const changes = typeof patch === 'function' ? patch(old) : patch;
      const plan: Plan = { ...parseInput({ ...input, ...changes }), id, groupId, createdAt, formerSources };
      if (!samePaths(plan, old)) plan.formerSources = movedFrom(old);
      assertNameFree(plans, plan.name, id);
      assertGroupFree(plans, plan.store, groupId, id);
      if (plan.store !== old.store) assertPlanGroupFree(plan);
      return { plans: plans.map((p) => (p.id === id ? plan : p)), result: plan };
    });
  }

  remove(idOrName: string): Plan {
    return this.change((plans) => {
      const plan = findPlan(plans, idOrName);
      return { plans: plans.filter((p) => p.id !== plan.id), result: plan };
    });
  }

  private change<T>(apply: (plans: Plan[]) => { plans: Plan[]; result: T }): T {
    const lock = acquireExclusiveLock(this.configDir, 'plans', 'an edit of the backup plans', this.log, {
      waitMs: EDIT_WAIT_MS,
    });
    return withLock(lock, () => {
      const { plans, result } = apply(this.list());
      writeJsonFileAtomic(this.file, { version: SETTINGS_VERSION, plans });
      return result;
    });
  }
}

function parseInput(input: PlanInput): z.infer<typeof planInputSchema> {
  const parsed = planInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new CairnError('INVALID_ARGUMENT', `invalid plan: ${where}${issue?.message ?? 'wrong shape'}`);
  }
  assertValidSchedule(parsed.data.schedule);
  return {
    ...parsed.data,
    store: resolve(parsed.data.store),
    sources: parsed.data.sources.map((s) => ({ ...s, path: resolve(s.path) })),
  };
}

function newPlan(input: z.infer<typeof planInputSchema>, plans: Plan[], now: number): Plan {
  assertNameFree(plans, input.name);
  const groupId = toBackupId(input.name);
  if (!groupId) {
    throw new CairnError(
      'INVALID_NAME',
      `cannot make a group id of the plan name "${input.name}"; use letters or digits`,
    );
  }
  assertGroupFree(plans, input.store, groupId);
  const plan = { ...input, id: uniqueId(groupId, plans), groupId, createdAt: now, formerSources: [] };
  assertPlanGroupFree(plan);
  return plan;
}

/** Whether an edit left the plan's sources as they were (in any order). */
function samePaths(a: Pick<Plan, 'sources'>, b: Pick<Plan, 'sources'>): boolean {
  const paths = (p: Pick<Plan, 'sources'>): string => JSON.stringify(p.sources.map((s) => s.path).sort());
  return paths(a) === paths(b);
}

/**
 * The plan's former sources after its sources were changed, newest last: every source it had before the edit
 * (its group's recorded source may be any of them), and of the older ones as many as make FORMER_SOURCES.
 */
function movedFrom(old: Plan): string[] {
  const paths = [...old.formerSources, ...old.sources.map((s) => s.path)];
  const unique = [...new Set(paths.reverse())].reverse();
  return unique.slice(-Math.max(FORMER_SOURCES, old.sources.length));
}

/** Two plans backing up into one group would prune each other's snapshots and fight over its source. */
function assertGroupFree(plans: Plan[], store: string, groupId: string, exceptId?: string): void {
  const sharing = plans.find((p) => p.id !== exceptId && p.store === store && p.groupId === groupId);
  if (!sharing) return;
  throw new CairnError(
    'ALREADY_EXISTS',
    `the plan "${sharing.name}" already backs up into host/${groupId} in ${store}; ` +
      (exceptId === undefined ? 'give this plan another name' : 'this plan cannot back up into that store too'),
  );
}

function assertNameFree(plans: Plan[], name: string, exceptId?: string): void {
  const same = plans.find((p) => p.id !== exceptId && p.name.toLowerCase() === name.toLowerCase());
  if (same) throw new CairnError('ALREADY_EXISTS', `a plan named "${same.name}" exists already`);
}

function uniqueId(groupId: string, plans: Plan[]): string {
  const base =
    groupId
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+/, '')
      .slice(0, 48) || 'plan';
  const taken = new Set(plans.map((p) => p.id));
  if (!taken.has(base)) return base;
  for (;;) {
    const id = `${base}-${randomBytes(3).toString('hex')}`;
    if (!taken.has(id)) return id;
  }
}

function findPlan(plans: Plan[], idOrName: string): Plan {
  const plan =
    plans.find((p) => p.id === idOrName) ?? plans.find((p) => p.name.toLowerCase() === idOrName.toLowerCase());
  if (plan) return plan;
  const known = plans.length ? `; the plans are: ${plans.map((p) => p.name).join(', ')}` : '; there are no plans yet';
  throw new CairnError('NOT_FOUND', `no plan "${idOrName}"${known}`);
}
