import { KEEP_RULES, type KeepOptions } from '../../contract/keep-rules.js';
import {
  planInputSchema,
  type ExcludePreset,
  type NotifyLevel,
  type Plan,
  type PlanEncryption,
  type PlanInput,
  type PlanSource,
  type Schedule,
  type Weekday,
} from '../../contract/plans.js';

/**
 * The plan editor's fields as typed (numbers as text, one pattern per line), and the conversions between them
 * and a PlanInput. Pure, so the rules are tested without a window; the contract's zod schema is the one check.
 */
export interface PlanForm {
  name: string;
  /** The first source: the one a plan of one source has. */
  sourceKind: 'folder' | 'image';
  source: string;
  /** The sources added after the first, each a folder or a disk image, paths as typed. */
  moreSources: PlanSource[];
  store: string;
  presets: ExcludePreset[];
  /** Own patterns, one per line. */
  excludes: string;
  scheduleKind: Schedule['kind'];
  every: string;
  unit: 'minutes' | 'hours';
  /** HH:MM, for daily and weekly. */
  at: string;
  days: Weekday[];
  expression: string;
  retention: Record<keyof KeepOptions, string>;
  gcEveryDays: string;
  verifyNew: boolean;
  fullVerifyEveryDays: string;
  skipOnBattery: boolean;
  skipPushOnMetered: boolean;
  /** The remote each backup is pushed to ('' for none), and the remote's keep rules (kept as the plan has them). */
  offsiteRemote: string;
  offsiteRetention: KeepOptions;
  notify: NotifyLevel;
  paused: boolean;
  /** The key the plan encrypts with (its fingerprint and key file), none: plain backups. */
  encryption?: PlanEncryption;
}

/** The fields an error can be shown at. */
export type PlanField =
  | 'name'
  | 'source'
  | 'moreSources'
  | 'store'
  | 'excludes'
  | 'every'
  | 'at'
  | 'days'
  | 'expression'
  | keyof KeepOptions
  | 'gcEveryDays'
  | 'fullVerifyEveryDays';

export type PlanFormErrors = Partial<Record<PlanField, string>>;

const NO_RETENTION = Object.fromEntries(KEEP_RULES.map((r) => [r.option, ''])) as PlanForm['retention'];

/** A new plan's fields: daily at noon, keep everything, GC weekly, a full verify monthly, tell failures. */
export function newPlanForm(start: Partial<Pick<PlanForm, 'name' | 'source' | 'sourceKind' | 'store'>> = {}): PlanForm {
  return {
    name: '',
    sourceKind: 'folder',
    source: '',
    moreSources: [],
    store: '',
    presets: ['caches', 'trash'],
    excludes: '',
    scheduleKind: 'daily',
    every: '1',
    unit: 'hours',
    at: '12:00',
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    expression: '30 2 * * 1-5',
    retention: { ...NO_RETENTION },
    gcEveryDays: '7',
    verifyNew: false,
    fullVerifyEveryDays: '30',
    skipOnBattery: false,
    skipPushOnMetered: false,
    offsiteRemote: '',
    offsiteRetention: {},
    notify: 'failures',
    paused: false,
    ...start,
  };
}

/** A saved plan's settings as the editor's fields; the other kinds' schedule fields keep their defaults. */
export function planForm(plan: Plan): PlanForm {
  const base = newPlanForm();
  const s = plan.schedule ?? { kind: 'daily', at: '12:00' };
  const [source, ...more] = plan.sources;
  return {
    ...base,
    name: plan.name,
    sourceKind: source?.kind ?? 'folder',
    source: source?.path ?? '',
    moreSources: more.map((s) => ({ ...s })),
    store: plan.store,
    presets: [...plan.excludePresets],
    excludes: plan.excludes.join('\n'),
    scheduleKind: s.kind,
    ...(s.kind === 'interval' ? { every: String(s.every), unit: s.unit } : {}),
    ...(s.kind === 'daily' ? { at: s.at } : {}),
    ...(s.kind === 'weekly' ? { at: s.at, days: [...s.days] } : {}),
    ...(s.kind === 'calendar' ? { expression: s.expression } : {}),
    retention: retentionFields(plan.retention),
    gcEveryDays: String(plan.maintenance.gcEveryDays),
    verifyNew: plan.maintenance.verifyNew,
    fullVerifyEveryDays: String(plan.maintenance.fullVerifyEveryDays),
    skipOnBattery: plan.conditions.skipOnBattery,
    skipPushOnMetered: plan.conditions.skipPushOnMetered ?? false,
    offsiteRemote: plan.offsite?.remote ?? '',
    offsiteRetention: { ...plan.offsite?.retention },
    notify: plan.notify,
    paused: plan.paused,
    ...(plan.encryption ? { encryption: { ...plan.encryption } } : {}),
  };
}

export function retentionFields(keep: KeepOptions): PlanForm['retention'] {
  const fields = { ...NO_RETENTION };
  for (const { option } of KEEP_RULES) {
    const n = keep[option];
    if (n) fields[option] = String(n);
  }
  return fields;
}

/** What a plan says as the input plans.save takes: without its id and bookkeeping (the schema is strict). */
export function inputOfPlan(plan: Plan): PlanInput {
  const { id: _id, groupId: _groupId, createdAt: _createdAt, formerSources: _formerSources, ...input } = plan;
  return input;
}

/** A name for a copy that no plan has: "Documents (copy)", then "Documents (copy 2)"… */
export function copyName(name: string, taken: string[]): string {
  const lower = new Set(taken.map((n) => n.toLowerCase()));
  for (let i = 1; ; i++) {
    const candidate = `${name} (copy${i === 1 ? '' : ` ${i}`})`;
    if (!lower.has(candidate.toLowerCase())) return candidate;
  }
}

/** The lines of a patterns field that say something. */
export function patternLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** A number field as typed: a number, or NaN for text that is none (so the schema refuses it). */
function numberOf(text: string): number {
  return text.trim() === '' ? NaN : Number(text);
}

/** A time of day as typed, "9:30" as "09:30"; anything else as typed (the schema says what is wrong with it). */
export function paddedTime(text: string): string {
  const m = /^\s*(\d):([0-5]\d)\s*$/.exec(text);
  return m ? `0${m[1]}:${m[2]}` : text.trim();
}

/** The schedule the fields describe (numbers unchecked: the schema and the host's preview check them). */
export function formSchedule(form: PlanForm): Schedule {
  switch (form.scheduleKind) {
    case 'manual':
      return { kind: 'manual' };
    case 'interval':
      return { kind: 'interval', every: numberOf(form.every), unit: form.unit };
    case 'daily':
      return { kind: 'daily', at: paddedTime(form.at) };
    case 'weekly':
      return { kind: 'weekly', days: form.days, at: paddedTime(form.at) };
    case 'calendar':
      return { kind: 'calendar', expression: form.expression };
  }
}

function formRetention(form: PlanForm): KeepOptions {
  return Object.fromEntries(
    KEEP_RULES.flatMap(({ option }) => {
      const text = form.retention[option].trim();
      return text === '' ? [] : [[option, Number(text)]];
    }),
  );
}

/** Every source the fields give, the first one first. */
export function formSources(form: PlanForm): PlanSource[] {
  return [{ kind: form.sourceKind, path: form.source }, ...form.moreSources].map((s) => ({
    ...s,
    path: s.path.trim(),
  }));
}

/** The first folder of the plan (what its excludes preview looks at), if it backs one up. */
export function firstFolder(form: PlanForm): string | undefined {
  return formSources(form).find((s) => s.kind === 'folder')?.path;
}

/** The input the fields make, unchecked. */
function rawInput(form: PlanForm): PlanInput {
  // Images have no files to exclude: a plan of images only has no excludes.
  const folders = firstFolder(form) !== undefined;
  return {
    name: form.name,
    sources: formSources(form),
    store: form.store.trim(),
    excludes: folders ? patternLines(form.excludes) : [],
    excludePresets: folders ? form.presets : [],
    schedule: formSchedule(form),
    retention: formRetention(form),
    maintenance: {
      gcEveryDays: numberOf(form.gcEveryDays),
      verifyNew: form.verifyNew,
      fullVerifyEveryDays: numberOf(form.fullVerifyEveryDays),
    },
    conditions: { skipOnBattery: form.skipOnBattery, skipPushOnMetered: form.skipPushOnMetered },
    ...(form.offsiteRemote ? { offsite: { remote: form.offsiteRemote, retention: form.offsiteRetention } } : {}),
    notify: form.notify,
    paused: form.paused,
    ...(form.encryption ? { encryption: form.encryption } : {}),
  };
}

/** What each field must be, in the editor's words (the schema's own messages are for programmers). */
const RULE_TEXT: PlanFormErrors = {
  name: 'Give the plan a name (one line, at most 80 characters).',
  source: 'Choose the folder or disk image to back up.',
  moreSources: 'Choose each added folder or disk image, or remove it.',
  store: 'Choose the datastore to back up into.',
  excludes: 'At most 1,000 patterns, each at most 1,024 characters.',
  every: 'A whole number from 1 to 10,000.',
  at: 'A time of day, HH:MM (24-hour).',
  days: 'Choose at least one day.',
  expression: 'Type a cron expression, e.g. 30 2 * * 1-5.',
  gcEveryDays: 'A whole number of days from 0 (never) to 366.',
  fullVerifyEveryDays: 'A whole number of days from 0 (never) to 366.',
};
const KEEP_TEXT = 'A whole number of at least 1, or empty.';

/** The field a schema issue is about, from its path in the input. */
function fieldOf(path: readonly PropertyKey[]): PlanField | undefined {
  const [top, second] = path;
  if (top === 'name' || top === 'store' || top === 'excludes') return top;
  if (top === 'sources') return typeof second === 'number' && second > 0 ? 'moreSources' : 'source';
  if (top === 'excludePresets') return 'excludes';
  if (top === 'schedule' && (second === 'every' || second === 'at' || second === 'days' || second === 'expression'))
    return second;
  if (top === 'retention' && KEEP_RULES.some((r) => r.option === second)) return second as keyof KeepOptions;
  if (top === 'maintenance' && (second === 'gcEveryDays' || second === 'fullVerifyEveryDays')) return second;
  return undefined;
}

/** The input to save, or what is wrong with the fields, field by field. */
export function checkPlanForm(form: PlanForm): { input: PlanInput } | { errors: PlanFormErrors } {
  const input = rawInput(form);
  const parsed = planInputSchema.safeParse(input);
  if (parsed.success) return { input };
  const errors: PlanFormErrors = {};
  for (const issue of parsed.error.issues) {
    const field = fieldOf(issue.path);
    if (!field || errors[field]) continue;
    // The sources together (one given twice, one inside another): the schema's words name them.
    const together = issue.path.length === 1 && field === 'source';
    errors[field] = together
      ? issue.message
      : (RULE_TEXT[field] ?? (field.startsWith('keep') ? KEEP_TEXT : issue.message));
  }
  // An issue the editor has no field for still stops the save, with the schema's words.
  if (Object.keys(errors).length === 0) errors.name = parsed.error.issues[0]?.message ?? 'The plan is not valid.';
  return { errors };
}

/** The schedule's own problems (to show instead of asking the host for a preview), if any. */
export function scheduleErrors(form: PlanForm): PlanFormErrors {
  const result = checkPlanForm(form);
  if ('input' in result) return {};
  const { every, at, days, expression } = result.errors;
  return Object.fromEntries(Object.entries({ every, at, days, expression }).filter(([, v]) => v !== undefined));
}

/**
 * Retention a user picks in one click (after Pika Backup's "keep some / keep many"); anything else is custom.
 * Each keeps the last few too: by the hourly rule alone, a second run within the hour removed the first, and
 * with it a file deleted in between.
 */
export const RETENTION_PRESETS = [
  { key: 'all', label: 'Keep everything', keep: {} },
  {
    key: 'some',
    label: 'Keep some',
    keep: { keepLast: 3, keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 6 },
  },
  {
    key: 'many',
    label: 'Keep many',
    keep: { keepLast: 10, keepHourly: 48, keepDaily: 30, keepWeekly: 12, keepMonthly: 24, keepYearly: 10 },
  },
] as const satisfies readonly { key: string; label: string; keep: KeepOptions }[];

export type RetentionChoice = (typeof RETENTION_PRESETS)[number]['key'] | 'custom';

/** The preset the retention fields match exactly, else 'custom'. */
export function retentionChoice(fields: PlanForm['retention']): RetentionChoice {
  const same = (keep: KeepOptions) =>
    KEEP_RULES.every(({ option }) => fields[option].trim() === (keep[option] ? String(keep[option]) : ''));
  return RETENTION_PRESETS.find((p) => same(p.keep))?.key ?? 'custom';
}
