import { z } from 'zod';

/**
 * PBS's keep rules, in the order PBS applies them (spec 8, step 3): their names, their option in requests and
 * in core, their flag in the CLI. The one definition of what a keep rule may say, used by the CLI, the host's
 * request validators, the prune dialog and core's prune.
 */
export const KEEP_RULES = [
  { rule: 'last', option: 'keepLast', flag: 'keep-last' },
  { rule: 'hourly', option: 'keepHourly', flag: 'keep-hourly' },
  { rule: 'daily', option: 'keepDaily', flag: 'keep-daily' },
  { rule: 'weekly', option: 'keepWeekly', flag: 'keep-weekly' },
  { rule: 'monthly', option: 'keepMonthly', flag: 'keep-monthly' },
  { rule: 'yearly', option: 'keepYearly', flag: 'keep-yearly' },
] as const;

export type KeepRule = (typeof KEEP_RULES)[number]['rule'];

/** PBS's keep rules; 0 or missing means unset. */
export type KeepOptions = { [R in (typeof KEEP_RULES)[number] as R['option']]?: number };

/** What a keep count must be, in words (0 or absent leaves the rule unset). */
export const KEEP_COUNT_RULE = 'must be a whole number of at least 1 (0 or absent means unset)';

/** A count a set keep rule may have: a whole number of at least 1. */
export function isKeepCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

/** The first rule of `options` whose count is not a keep count (nor 0 or absent), with that count. */
export function invalidKeepRule(options: KeepOptions): { rule: KeepRule; value: unknown } | undefined {
  for (const { rule, option } of KEEP_RULES) {
    const value: unknown = options[option];
    if (value !== undefined && value !== 0 && !isKeepCount(value)) return { rule, value };
  }
  return undefined;
}

const keepCount = z
  .number()
  .refine((n) => n === 0 || isKeepCount(n), KEEP_COUNT_RULE)
  .optional();

/** Keep options in a request: a strict object of the rules' options. */
export const keepOptionsSchema = z.strictObject({
  keepLast: keepCount,
  keepHourly: keepCount,
  keepDaily: keepCount,
  keepWeekly: keepCount,
  keepMonthly: keepCount,
  keepYearly: keepCount,
}) satisfies z.ZodType<KeepOptions>;
