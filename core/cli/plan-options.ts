import { statSync, type Stats } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { isKeepCount, KEEP_RULES, type KeepOptions } from '../../contract/keep-rules.js';
import {
  EXCLUDE_PRESETS,
  MIN_INTERVAL_MINUTES,
  NOTIFY_LEVELS,
  scheduleSchema,
  WEEKDAYS,
  type ExcludePreset,
  type Maintenance,
  type NotifyLevel,
  type Plan,
  type PlanInput,
  type PlanEncryption,
  type PlanSource,
  type Schedule,
} from '../../contract/plans.js';
import { resolve } from 'node:path';
import { defaultKeyPath } from '../crypto/default-key.js';
import { readKeyFile } from '../crypto/key-file.js';
import { CairnError } from '../errors.js';
import { cairnConfigDir } from '../plans/config-dir.js';
import { assertValidSchedule } from '../plans/schedule.js';
import { RemoteBook } from '../remote/remote-book.js';
import { UsageError } from './usage-error.js';

/**
 * The flags of `cairn plan add` and `cairn plan edit`, checked and turned into plan settings before anything is
 * written: a wrong value is a usage error naming the flag. `edit` replaces each setting a flag gives.
 */

export const PLAN_COMMAND_OPTIONS = {
  source: { type: 'string', multiple: true },
  'source-image': { type: 'string', multiple: true },
  store: { type: 'string' },
  image: { type: 'boolean' },
  preset: { type: 'string', multiple: true },
  every: { type: 'string' },
  daily: { type: 'string' },
  weekly: { type: 'string' },
  calendar: { type: 'string' },
  manual: { type: 'boolean' },
  'gc-every-days': { type: 'string' },
  'verify-new': { type: 'boolean' },
  'full-verify-every-days': { type: 'string' },
  'skip-on-battery': { type: 'boolean' },
  'push-to': { type: 'string' },
  'push-keep': { type: 'string' },
  'skip-push-on-metered': { type: 'boolean' },
  notify: { type: 'string' },
  paused: { type: 'boolean' },
  name: { type: 'string' },
  pause: { type: 'boolean' },
  resume: { type: 'boolean' },
  for: { type: 'string' },
} satisfies ParseArgsConfig['options'];

const SCHEDULE_FLAGS = ['every', 'daily', 'weekly', 'calendar', 'manual'] as const;
const KEEP_FLAGS = KEEP_RULES.map((r) => r.flag);
const SETTING_FLAGS = [
  'source',
  'source-image',
  'store',
  'image',
  'exclude',
  'preset',
  ...SCHEDULE_FLAGS,
  ...KEEP_FLAGS,
  'gc-every-days',
  'verify-new',
  'full-verify-every-days',
  'skip-on-battery',
  'push-to',
  'push-keep',
  'skip-push-on-metered',
  'keyfile',
  'encrypt',
  'notify',
] as const;

/** The options `plan add` takes; `plan edit` takes these but --paused, and --name, --pause, --resume. */
/** `cairn plan <sub-command>`: the names plan-commands.ts has a handler for. */
export const PLAN_SUBCOMMANDS = ['add', 'list', 'show', 'edit', 'remove', 'run', 'pause-all', 'resume-all'] as const;

export const PLAN_ADD_OPTIONS = [...SETTING_FLAGS, 'paused'] as const;
export const PLAN_EDIT_OPTIONS = [...SETTING_FLAGS, 'name', 'pause', 'resume'] as const;

type KeepFlagValues = { [R in (typeof KEEP_RULES)[number] as R['flag']]?: string };

export interface PlanFlags extends KeepFlagValues {
  source?: string[];
  'source-image'?: string[];
  store?: string;
  image?: boolean;
  exclude?: string[];
  preset?: string[];
  every?: string;
  daily?: string;
  weekly?: string;
  calendar?: string;
  manual?: boolean;
  'gc-every-days'?: string;
  'verify-new'?: boolean;
  'full-verify-every-days'?: string;
  'skip-on-battery'?: boolean;
  'push-to'?: string;
  'push-keep'?: string;
  'skip-push-on-metered'?: boolean;
  /** The plan's key file; --encrypt: the default key; --no-encrypt (encrypt false): plain backups from now on. */
  keyfile?: string;
  encrypt?: boolean;
  notify?: string;
  paused?: boolean;
  name?: string;
  pause?: boolean;
  resume?: boolean;
}

/** What the flags change, checked; `applyChanges` merges it into a plan (or the defaults). */
export interface PlanChanges {
  /** Settings replaced whole. */
  input: Partial<PlanInput>;
  /** Keep rules set (0: unset). */
  keep?: KeepOptions;
  maintenance?: Partial<Maintenance>;
  skipOnBattery?: boolean;
  skipPushOnMetered?: boolean;
  /** --push-to ('' ends the off-site copy) and --push-keep. */
  offsite?: { remote?: string; retention?: KeepOptions };
  /** --keyfile / --encrypt (the key to encrypt with), --no-encrypt (null: none). */
  encryption?: PlanEncryption | null;
}

export function parsePlanFlags(v: PlanFlags): PlanChanges {
  const input: Partial<PlanInput> = {};
  if (v.name !== undefined) input.name = v.name;
  const sources = sourceFlags(v);
  if (sources) input.sources = sources;
  if (v.store !== undefined) input.store = v.store;
  // An empty pattern or preset clears the list (`--exclude ''`), as `notes --set ''` clears the notes.
  if (v.exclude) input.excludes = v.exclude.filter((p) => p !== '');
  if (v.preset) input.excludePresets = presetFlags(v.preset);
  const schedule = scheduleFlag(v);
  if (schedule) input.schedule = schedule;
  if (v.notify !== undefined) input.notify = notifyFlag(v.notify);
  const paused = pausedFlag(v);
  if (paused !== undefined) input.paused = paused;
  return {
    input,
    keep: keepFlags(v),
    maintenance: maintenanceFlags(v),
    skipOnBattery: v['skip-on-battery'],
    skipPushOnMetered: v['skip-push-on-metered'],
    offsite: offsiteFlags(v),
    encryption: encryptionFlags(v),
  };
}

/**
 * `--keyfile FILE` or `--encrypt` (the default key): the plan's key, by the fingerprint its file records (read
 * now, so a missing file is said before the plan is saved; no passphrase is needed for that); `--no-encrypt`.
 */
function encryptionFlags(v: PlanFlags): PlanEncryption | null | undefined {
  if (v.keyfile !== undefined && v.encrypt !== undefined)
    throw new UsageError('--keyfile FILE encrypts with that key, --encrypt with the default key: give one');
  if (v.encrypt === false) return null;
  const file = v.keyfile !== undefined ? resolve(v.keyfile) : v.encrypt ? defaultKeyPath() : undefined;
  if (file === undefined) return undefined;
  const recorded = readKeyFile(file).fingerprint;
  if (recorded === undefined)
    throw new UsageError(
      `${file} does not record its key's fingerprint (an old PBS key file): re-save it with cairn key change-passphrase`,
    );
  return { keyFingerprint: recorded, keyFile: file };
}

/** `--push-to REMOTE` and `--push-keep last=3,daily=7,…` (the remote's own retention; '' keeps all). */
function offsiteFlags(v: PlanFlags): PlanChanges['offsite'] {
  const remote = v['push-to'];
  const keepText = v['push-keep'];
  if (remote === undefined && keepText === undefined) return undefined;
  if (remote === '' && keepText !== undefined)
    throw new UsageError("--push-to '' ends the off-site copy: --push-keep goes with a remote");
  return { remote, retention: keepText === undefined ? undefined : pushKeep(keepText) };
}

function pushKeep(text: string): KeepOptions {
  const keep: KeepOptions = {};
  for (const part of text.split(',').filter((p) => p !== '')) {
    const [rule, count] = part.split('=');
    const found = KEEP_RULES.find((r) => r.rule === rule);
    const n = Number(count);
    if (!found || count === undefined || !/^[0-9]+$/.test(count) || !isKeepCount(n))
      throw new UsageError(
        `invalid --push-keep ${JSON.stringify(part)}: rule=count with a rule of ${KEEP_RULES.map((r) => r.rule).join(', ')}`,
      );
    keep[found.option] = n;
  }
  return keep;
}

/** The changes as a patch of `old` (a new plan: of the defaults); the nested settings keep what no flag changed. */
export function applyChanges(changes: PlanChanges, old?: Plan): Partial<PlanInput> {
  const patch: Partial<PlanInput> = { ...changes.input };
  if (changes.keep) {
    const retention: KeepOptions = { ...old?.retention };
    for (const { option } of KEEP_RULES) {
      const n = changes.keep[option];
      if (n === 0) delete retention[option];
      else if (n !== undefined) retention[option] = n;
    }
    patch.retention = retention;
  }
  if (changes.maintenance) patch.maintenance = { ...old?.maintenance, ...changes.maintenance };
  if (changes.skipOnBattery !== undefined || changes.skipPushOnMetered !== undefined)
    patch.conditions = {
      ...old?.conditions,
      ...(changes.skipOnBattery === undefined ? {} : { skipOnBattery: changes.skipOnBattery }),
      ...(changes.skipPushOnMetered === undefined ? {} : { skipPushOnMetered: changes.skipPushOnMetered }),
    };
  if (changes.offsite) patch.offsite = offsitePatch(changes.offsite, old);
  if (changes.encryption !== undefined) patch.encryption = changes.encryption ?? undefined;
  return patch;
}

function offsitePatch(changes: NonNullable<PlanChanges['offsite']>, old?: Plan): PlanInput['offsite'] {
  if (changes.remote === '') return undefined;
  const remote = changes.remote ?? old?.offsite?.remote;
  if (remote === undefined) throw new UsageError('--push-keep needs a remote: give --push-to REMOTE');
  new RemoteBook(cairnConfigDir()).get(remote); // a remote that does not exist is said now, not at the first run
  return { remote, retention: changes.retention ?? old?.offsite?.retention ?? {} };
}

/** Whether the flags change anything at all (`plan edit` with none is a mistake). */
export function changesAnything(changes: PlanChanges): boolean {
  return (
    Object.keys(changes.input).length > 0 ||
    changes.keep !== undefined ||
    changes.maintenance !== undefined ||
    changes.skipOnBattery !== undefined ||
    changes.skipPushOnMetered !== undefined ||
    changes.offsite !== undefined ||
    changes.encryption !== undefined
  );
}

/**
 * The plan's sources: each --source a folder (with --image, every --source a disk image, as for one), each
 * --source-image a disk image beside them. Given on an edit, they replace all the plan's sources.
 */
function sourceFlags(v: PlanFlags): PlanSource[] | undefined {
  const given = v.source ?? [];
  const images = v['source-image'] ?? [];
  if (v.image && given.length === 0)
    throw new UsageError('--image says what --source is: give --source <image-file> with it');
  if (v.image && images.length > 0)
    throw new UsageError(
      '--image makes every --source a disk image; with --source-image, give the folders as --source and the images as --source-image',
    );
  if (given.length === 0 && images.length === 0) return undefined;
  return [
    ...given.map((path) => checkedSource(v.image ? 'image' : 'folder', path, '--source')),
    ...images.map((path) => checkedSource('image', path, '--source-image')),
  ];
}

/** A source as a flag gives it: refused when empty, or when what is there is of the other kind. */
function checkedSource(kind: PlanSource['kind'], path: string, flag: string): PlanSource {
  if (path === '') throw new UsageError(`${flag} is empty: name the folder or disk image to back up`);
  const stat = statOrUndefined(path);
  if (kind === 'folder' && stat?.isFile())
    throw new CairnError(
      'INVALID_ARGUMENT',
      `${path} is a file: add --image to back it up as a disk image (or give it as --source-image beside folders)`,
    );
  if (kind === 'image' && stat?.isDirectory())
    throw new CairnError(
      'INVALID_ARGUMENT',
      `${path} is a folder: ${flag === '--source' ? '--image' : flag} is for a disk image file`,
    );
  return { kind, path };
}

/** What is at `path`, if it can be looked at: a source on an unplugged drive may be missing now. */
function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function presetFlags(values: string[]): ExcludePreset[] {
  const presets = new Set<ExcludePreset>();
  for (const value of values) {
    if (value === '') continue;
    if (!Object.hasOwn(EXCLUDE_PRESETS, value))
      throw new UsageError(
        `invalid --preset ${JSON.stringify(value)}: one of ${Object.keys(EXCLUDE_PRESETS).join(', ')}`,
      );
    presets.add(value as ExcludePreset);
  }
  return [...presets];
}

function notifyFlag(value: string): NotifyLevel {
  if (!(NOTIFY_LEVELS as readonly string[]).includes(value))
    throw new UsageError(`invalid --notify ${JSON.stringify(value)}: one of ${NOTIFY_LEVELS.join(', ')}`);
  return value as NotifyLevel;
}

function pausedFlag(v: PlanFlags): boolean | undefined {
  if (v.pause && v.resume) throw new UsageError('--pause and --resume say opposite things: give one');
  if (v.pause) return true;
  if (v.resume) return false;
  return v.paused;
}

function keepFlags(v: PlanFlags): KeepOptions | undefined {
  let keep: KeepOptions | undefined;
  for (const { flag, option } of KEEP_RULES) {
    const text = v[flag];
    if (text === undefined) continue;
    const n = Number(text);
    if (!/^[0-9]+$/.test(text) || (n !== 0 && !isKeepCount(n)))
      throw new UsageError(`invalid --${flag} ${JSON.stringify(text)}: a whole number (0 unsets the rule)`);
    keep = { ...keep, [option]: n };
  }
  return keep;
}

function maintenanceFlags(v: PlanFlags): Partial<Maintenance> | undefined {
  const m: Partial<Maintenance> = {};
  const gc = v['gc-every-days'];
  if (gc !== undefined) m.gcEveryDays = days('gc-every-days', gc);
  const full = v['full-verify-every-days'];
  if (full !== undefined) m.fullVerifyEveryDays = days('full-verify-every-days', full);
  if (v['verify-new'] !== undefined) m.verifyNew = v['verify-new'];
  return Object.keys(m).length > 0 ? m : undefined;
}

function days(flag: string, text: string): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n > 366)
    throw new UsageError(`invalid --${flag} ${JSON.stringify(text)}: a whole number of days from 0 (never) to 366`);
  return n;
}

// ---- schedules ----

/** The schedule the flags give, if any: at most one of --every, --daily, --weekly, --calendar, --manual. */
function scheduleFlag(v: PlanFlags): Schedule | undefined {
  const given = SCHEDULE_FLAGS.filter((f) => v[f] !== undefined && v[f] !== false);
  if (given.length > 1)
    throw new UsageError(`a plan has one schedule: give one of ${given.map((f) => `--${f}`).join(', ')}`);
  const flag = given[0];
  if (flag === undefined) return undefined;
  const text = flag === 'manual' ? '' : String(v[flag]);
  const schedule = flag === 'manual' ? { kind: 'manual' } : SCHEDULE_PARSERS[flag](text);
  const parsed = scheduleSchema.safeParse(schedule);
  if (!parsed.success) {
    const why = parsed.error.issues[0]?.message ?? 'not a schedule';
    throw new UsageError(`invalid --${flag} ${JSON.stringify(text)}: ${why}`);
  }
  try {
    assertValidSchedule(parsed.data);
  } catch (err) {
    throw new UsageError(`invalid --${flag}: ${(err as Error).message}`); // the message quotes the expression
  }
  return parsed.data;
}

const SCHEDULE_PARSERS: Record<Exclude<(typeof SCHEDULE_FLAGS)[number], 'manual'>, (text: string) => unknown> = {
  every: intervalOf,
  daily: (text) => ({ kind: 'daily', at: timeOf(text) }),
  weekly: weeklyOf,
  calendar: (text) => ({ kind: 'calendar', expression: text }),
};

/** "30m", "90min", "2h" → an interval. */
function intervalOf(text: string): unknown {
  const m = /^([0-9]+)\s*(m|min|minutes?|h|hours?)$/i.exec(text.trim());
  if (!m) throw new UsageError(`invalid --every ${JSON.stringify(text)}: minutes or hours, e.g. 30m or 2h`);
  const every = Number(m[1]);
  const unit = m[2]!.toLowerCase().startsWith('h') ? 'hours' : 'minutes';
  if (every < MIN_INTERVAL_MINUTES)
    throw new UsageError(`invalid --every ${JSON.stringify(text)}: at least ${MIN_INTERVAL_MINUTES} minute`);
  return { kind: 'interval', every, unit };
}

/** "30m", "2h" → milliseconds: how long `plan pause-all --for` pauses. */
export function pauseDurationMs(text: string): number {
  const m = /^([0-9]+)\s*(m|min|minutes?|h|hours?|d|days?)$/i.exec(text.trim());
  if (!m || Number(m[1]) < 1) throw new UsageError(`invalid --for ${JSON.stringify(text)}: e.g. 30m, 2h or 1d`);
  const unit = m[2]!.toLowerCase()[0];
  return Number(m[1]) * (unit === 'd' ? 86_400_000 : unit === 'h' ? 3_600_000 : 60_000);
}

/** "3:30" is taken as "03:30"; the schedule's schema checks the rest. */
function timeOf(text: string): string {
  return /^[0-9]:[0-9]{2}$/.test(text) ? `0${text}` : text;
}

/** "mon,wed@07:00", "mon-fri@18:30". */
function weeklyOf(text: string): unknown {
  const m = /^([a-z,-]+)@(.+)$/i.exec(text.trim());
  if (!m)
    throw new UsageError(`invalid --weekly ${JSON.stringify(text)}: days@HH:MM, e.g. mon,wed@07:00 or mon-fri@18:30`);
  const days = m[1]!
    .toLowerCase()
    .split(',')
    .flatMap((part) => dayRange(part, text));
  return { kind: 'weekly', days, at: timeOf(m[2]!) };
}

function dayRange(part: string, text: string): string[] {
  const [from, to = from] = part.split('-');
  const a = WEEKDAYS.indexOf(from as (typeof WEEKDAYS)[number]);
  const b = WEEKDAYS.indexOf(to as (typeof WEEKDAYS)[number]);
  if (a < 0 || b < 0 || a > b)
    throw new UsageError(
      `invalid --weekly ${JSON.stringify(text)}: ${JSON.stringify(part)} is not a day or a range of days (${WEEKDAYS.join(', ')})`,
    );
  return WEEKDAYS.slice(a, b + 1);
}
