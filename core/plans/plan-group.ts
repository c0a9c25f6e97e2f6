import { join } from 'node:path';
import { groupPath } from '../backup/backup-names.js';
import {
  describeSource,
  isSealed,
  readGroupSource,
  sameSource,
  sourceOnThisHost,
  type RecordedSource,
} from '../datastore/group-source.js';
import { CairnError } from '../errors.js';
import { sortedSources } from '../backup/source-set.js';
import type { Plan } from '../../contract/plans.js';

/**
 * Refuses a new plan (or a plan moved to another store) whose group, named after it, already holds backups of
 * another source in that store: said when the plan is saved, not at its first run hours later. A store that is
 * not there yet (a drive away), a group without a record, or a record sealed by a key, is left to the run.
 */
export function assertPlanGroupFree(
  plan: Pick<Plan, 'name' | 'store' | 'groupId' | 'sources'> & { formerSources?: readonly string[] },
): void {
  const group = { type: 'host' as const, id: plan.groupId };
  let recorded: RecordedSource | undefined;
  try {
    recorded = readGroupSource(join(plan.store, group.type, group.id));
  } catch {
    return; // a damaged record: the run's backup says what is wrong with it
  }
  if (!recorded || isSealed(recorded)) return;
  // As the backup records them: sorted, so the order the plan names them in never matters.
  const paths = sortedSources(plan.sources.map((s) => s.path));
  if (sameSource(recorded, sourceOnThisHost(paths))) return;
  // The plan's own former sources: its next run moves the group on (plan-run.ts, movedByThePlan).
  if (recorded.paths.every((p) => plan.formerSources?.includes(p))) return;
  throw new CairnError(
    'SOURCE_MISMATCH',
    `${groupPath(group)} in ${plan.store} holds backups of ${describeSource(recorded)}; a plan backs up into the ` +
      `group named after it, so the plan "${plan.name}" would back up there: give the plan for ` +
      `${plan.sources.map((s) => s.path).join(', ')} another name`,
  );
}
