/**
 * Which snapshots of one backup group prune keeps: PBS's `compute_prune_info` (spec section 8), followed to the letter
 * so that a Cairn datastore pruned by Cairn or by PBS ends up the same, with one addition: a snapshot dated in the
 * future is kept and left out of the rules (below). Pure: no I/O; the time is the caller's.
 */
import { formatBackupTime } from '../backup/backup-names.js';
import {
  invalidKeepRule,
  KEEP_COUNT_RULE,
  KEEP_RULES,
  type KeepOptions,
  type KeepRule,
} from '../../contract/keep-rules.js';
import { CairnError } from '../errors.js';

export type { KeepOptions, KeepRule };

export type PruneMark = 'keep' | 'keep-protected' | 'keep-partial' | 'keep-future' | 'remove';

/** A snapshot dated more than this after "now" was named by a clock that was ahead. */
export const FUTURE_MARGIN_SECONDS = 300;

export interface PruneCandidate {
  /** Backup time, epoch seconds. */
  time: number;
  protected: boolean;
  finished: boolean;
}

export interface PruneDecision<T extends PruneCandidate> {
  snapshot: T;
  mark: PruneMark;
  /** The rule that kept it, for 'keep'. */
  rule?: KeepRule;
  /** Human-readable why, e.g. "kept by keep-daily (2026/11/24)". */
  reason: string;
}

const NOT_SELECTED = 'not selected by any keep rule';

/** 0 and undefined both mean "unset", as in PBS. */
export function keepsSomething(o: KeepOptions): boolean {
  return KEEP_RULES.some(({ option }) => (o[option] ?? 0) > 0);
}

/** The keep rules' one check (contract/keep-rules.ts), as core's error. */
export function validateKeepOptions(o: KeepOptions): void {
  const bad = invalidKeepRule(o);
  if (bad)
    throw new CairnError('INVALID_ARGUMENT', `invalid keep-${bad.rule} ${String(bad.value)}: ${KEEP_COUNT_RULE}`);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * ISO 8601 week-based year and week (strftime %G/%V) of a calendar date. Works on the date as a UTC day so that
 * DST in the local zone cannot shift it; a week belongs to the year that holds its Thursday.
 */
function isoWeek(year: number, month0: number, day: number): [number, number] {
  const DAY = 86_400_000;
  const date = Date.UTC(year, month0, day);
  const weekday = (new Date(date).getUTCDay() + 6) % 7; // Monday = 0 … Sunday = 6
  const thursday = date + (3 - weekday) * DAY;
  const isoYear = new Date(thursday).getUTCFullYear();
  return [isoYear, Math.floor((thursday - Date.UTC(isoYear, 0, 1)) / (7 * DAY)) + 1];
}

/** The bucket a snapshot falls in for `rule` (spec 8 table): local time of the process (TZ), like PBS's strftime_local. */
export function selectionKey(rule: KeepRule, time: number): string {
  const last = formatBackupTime(time); // also rejects times that are not whole seconds after the epoch
  const d = new Date(time * 1000);
  const y = String(d.getFullYear());
  const m = pad2(d.getMonth() + 1);
  switch (rule) {
    case 'last':
      return last;
    case 'hourly':
      return `${y}/${m}/${pad2(d.getDate())}/${pad2(d.getHours())}`;
    case 'daily':
      return `${y}/${m}/${pad2(d.getDate())}`;
    case 'weekly': {
      const [g, v] = isoWeek(d.getFullYear(), d.getMonth(), d.getDate());
      return `${g}/${pad2(v)}`;
    }
    case 'monthly':
      return `${y}/${m}`;
    case 'yearly':
      return y;
  }
}

type Marked = Omit<PruneDecision<PruneCandidate>, 'snapshot'>;

/** `mark_selections`: one rule's pass over the list (newest first), filling `marks` in place. */
function markSelections(
  list: readonly PruneCandidate[],
  marks: (Marked | undefined)[],
  rule: KeepRule,
  keep: number,
): void {
  // Buckets earlier rules already keep do not use up this rule's budget. KeepPartial/Protected do not count.
  const alreadyIncluded = new Set<string>();
  list.forEach((s, i) => {
    if (marks[i]?.mark === 'keep') alreadyIncluded.add(selectionKey(rule, s.time));
  });
  const included = new Set<string>();
  for (const [i, s] of list.entries()) {
    if (marks[i]) continue;
    if (s.protected) {
      marks[i] = { mark: 'keep-protected', reason: 'protected' };
      continue;
    }
    const key = selectionKey(rule, s.time);
    if (alreadyIncluded.has(key)) continue; // left unmarked: a later rule may still keep it
    if (!included.has(key)) {
      if (included.size >= keep) break;
      included.add(key);
      marks[i] = { mark: 'keep', rule, reason: `kept by keep-${rule} (${key})` };
    } else {
      // Final: a newer snapshot of this bucket is kept, so no later rule may keep this one.
      marks[i] = { mark: 'remove', reason: `older than a kept snapshot in the same ${rule} bucket ${key}` };
    }
  }
}

/**
 * Decisions, newest first. `now` (epoch seconds, the store's clock) finds snapshots dated in the future: named by a
 * clock that was ahead, they are kept, and they take no place in the keep rules, so they can neither use up
 * keep-last nor put snapshots of distinct real days into one bucket.
 */
export function computePrune<T extends PruneCandidate>(
  snapshots: readonly T[],
  options: KeepOptions,
  now?: number,
): PruneDecision<T>[] {
  validateKeepOptions(options);
  const list = [...snapshots].sort((a, b) => b.time - a.time);
  const isFuture = (s: PruneCandidate): boolean => now !== undefined && s.time > now + FUTURE_MARGIN_SECONDS;
  if (!keepsSomething(options)) {
    return list.map((snapshot) =>
      snapshot.protected
        ? { snapshot, mark: 'keep-protected', reason: 'protected' }
        : { snapshot, mark: 'keep', reason: 'no keep option given: keeping everything' },
    );
  }

  const marks: (Marked | undefined)[] = list.map((s): Marked | undefined =>
    isFuture(s)
      ? {
          mark: 'keep-future',
          reason: `dated in the future (${formatBackupTime(s.time)}): named by a clock that was ahead; kept until that time`,
        }
      : undefined,
  );
  // Only an unfinished snapshot newer than every finished one may be a backup still running: keep that one only.
  let keepUnfinished = true;
  list.forEach((s, i) => {
    if (marks[i]) return;
    if (!s.finished) {
      marks[i] = keepUnfinished
        ? { mark: 'keep-partial', reason: 'newest unfinished backup (may still be running)' }
        : { mark: 'remove', reason: 'unfinished' };
    }
    keepUnfinished = false;
  });

  for (const { rule, option } of KEEP_RULES) {
    const keep = options[option] ?? 0;
    if (keep > 0) markSelections(list, marks, rule, keep);
  }

  // Protected wins over any mark; whatever no rule marked goes.
  return list.map((snapshot, i) =>
    snapshot.protected
      ? { snapshot, mark: 'keep-protected', reason: 'protected' }
      : { snapshot, ...(marks[i] ?? { mark: 'remove', reason: NOT_SELECTED }) },
  );
}
