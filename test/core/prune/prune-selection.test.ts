import { describe, expect, it } from 'vitest';
import { isKeepCount, KEEP_RULES, keepOptionsSchema } from '../../../contract/keep-rules.js';
import { CairnError } from '../../../core/errors.js';
import {
  computePrune,
  keepsSomething,
  selectionKey,
  validateKeepOptions,
  type KeepOptions,
  type KeepRule,
  type PruneCandidate,
} from '../../../core/prune/prune-selection.js';
import { expectCode } from '../../support/errors.js';
import { usePinnedTimeZone } from '../../support/timezone.js';

// Every expected value below was derived by hand from the rules in spec section 8 and a calendar (cross-checked
// with GNU `date +%G/%V` and `TZ=Europe/Berlin date`), never by running the code under test.

usePinnedTimeZone('UTC');

interface Snap extends PruneCandidate {
  name: string;
}

/** A snapshot at an ISO UTC time; `flags` may contain 'p' (protected) and 'u' (unfinished). */
function snap(name: string, iso: string, flags = ''): Snap {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test time ${iso}`);
  return { name, time: ms / 1000, protected: flags.includes('p'), finished: !flags.includes('u') };
}

/** Runs prune and returns `name mark [rule]` lines, newest first, for compact comparison. */
function run(snaps: Snap[], options: KeepOptions): string[] {
  return computePrune(snaps, options).map((d) => [d.snapshot.name, d.mark, d.rule].filter(Boolean).join(' '));
}

function reasons(snaps: Snap[], options: KeepOptions): Record<string, string> {
  return Object.fromEntries(computePrune(snaps, options).map((d) => [d.snapshot.name, d.reason]));
}

/** Oldest first: the input order must not matter (step 1 sorts newest first). */
const reversed = (a: Snap[]): Snap[] => [...a].reverse();

describe('selectionKey', () => {
  it('formats each rule as in the spec table (TZ=UTC)', () => {
    const t = Date.parse('2026-03-05T07:08:09Z') / 1000; // a Thursday, ISO week 10 (Mon 2026-03-02 … Sun 03-08)
    const expected: [KeepRule, string][] = [
      ['last', '2026-03-05T07:08:09Z'],
      ['hourly', '2026/03/05/07'],
      ['daily', '2026/03/05'],
      ['weekly', '2026/10'],
      ['monthly', '2026/03'],
      ['yearly', '2026'],
    ];
    for (const [rule, key] of expected) expect(selectionKey(rule, t), rule).toBe(key);
  });

  it('computes ISO 8601 week-based year and week (%G/%V) across year boundaries', () => {
    // Hand-derived from a calendar: a week belongs to the year holding its Thursday.
    const table: [string, string, string][] = [
      ['2020-12-31', 'Thu', '2020/53'], // 2020 starts on a Wednesday and is a leap year: 53 weeks
      ['2021-01-03', 'Sun', '2020/53'],
      ['2021-01-04', 'Mon', '2021/01'],
      ['2020-12-28', 'Mon', '2020/53'],
      ['2020-12-27', 'Sun', '2020/52'],
      ['2024-12-29', 'Sun', '2024/52'],
      ['2024-12-30', 'Mon', '2025/01'], // that week's Thursday is 2025-01-02
      ['2025-12-28', 'Sun', '2025/52'],
      ['2025-12-29', 'Mon', '2026/01'],
      ['2026-01-01', 'Thu', '2026/01'],
      ['2027-01-01', 'Fri', '2026/53'], // 2026 starts on a Thursday: 53 weeks
      ['2027-01-03', 'Sun', '2026/53'],
      ['2027-01-04', 'Mon', '2027/01'],
      ['2008-12-29', 'Mon', '2009/01'],
      ['2010-01-03', 'Sun', '2009/53'],
      ['2005-01-01', 'Sat', '2004/53'],
      ['2007-01-01', 'Mon', '2007/01'],
      ['2007-12-30', 'Sun', '2007/52'],
      ['2007-12-31', 'Mon', '2008/01'],
      ['2024-06-15', 'Sat', '2024/24'], // 2024-01-01 is a Monday; June 15 is day 167; week 24 = days 162..168
    ];
    const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    for (const [day, weekday, week] of table) {
      for (const hhmm of ['00:00:01', '12:00:00', '23:59:59']) {
        const t = Date.parse(`${day}T${hhmm}Z`) / 1000;
        expect(weekdays[new Date(t * 1000).getUTCDay()], `${day} weekday`).toBe(weekday); // guards the table itself
        expect(selectionKey('weekly', t), `${day}T${hhmm}`).toBe(week);
      }
    }
  });

  it('rejects times that are not whole seconds after the epoch', () => {
    for (const t of [0, -5, 1.5, Number.NaN]) expect(() => selectionKey('daily', t)).toThrow(CairnError);
  });
});

describe('validateKeepOptions / keepsSomething', () => {
  it('accepts integers >= 1, and 0 or undefined as unset', () => {
    for (const o of [
      {},
      { keepLast: 0 },
      { keepDaily: 1 },
      { keepLast: 3, keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 10 },
    ]) {
      expect(() => validateKeepOptions(o)).not.toThrow();
    }
    expect(keepsSomething({})).toBe(false);
    expect(keepsSomething({ keepLast: 0, keepYearly: 0, keepDaily: undefined })).toBe(false);
    expect(keepsSomething({ keepYearly: 1 })).toBe(true);
    expect(keepsSomething({ keepLast: 0, keepMonthly: 2 })).toBe(true);
  });

  it('rejects negative and non-integer values, naming the option', async () => {
    const bad: [KeepOptions, string][] = [
      [{ keepLast: -1 }, 'keep-last'],
      [{ keepHourly: 1.5 }, 'keep-hourly'],
      [{ keepDaily: Number.NaN }, 'keep-daily'],
      [{ keepWeekly: Infinity }, 'keep-weekly'],
      [{ keepMonthly: -0.5 }, 'keep-monthly'],
      [{ keepDaily: 2, keepYearly: '3' as unknown as number }, 'keep-yearly'],
    ];
    for (const [o, name] of bad) {
      await expectCode(() => validateKeepOptions(o), 'INVALID_ARGUMENT', new RegExp(name));
      await expectCode(() => computePrune([snap('a', '2026-01-01T00:00:00Z')], o), 'INVALID_ARGUMENT');
      // The host's request validator (contract/keep-rules.ts) refuses the same options by the same rule.
      expect(keepOptionsSchema.safeParse(o).success, JSON.stringify(o)).toBe(false);
    }
  });

  it('is one rule for core, the CLI and the host: a whole number of at least 1, 0 or absent for unset', () => {
    for (const o of [{}, { keepLast: 0 }, { keepDaily: 1 }, { keepYearly: 2_000_000 }]) {
      expect(() => validateKeepOptions(o)).not.toThrow();
      expect(keepOptionsSchema.safeParse(o).success, JSON.stringify(o)).toBe(true);
    }
    expect([1, 7, Number.MAX_SAFE_INTEGER].every(isKeepCount)).toBe(true);
    expect([0, -1, 1.5, Number.NaN, Infinity, '3', Number.MAX_SAFE_INTEGER + 1].some(isKeepCount)).toBe(false);
    expect(KEEP_RULES.map((r) => r.flag)).toEqual([
      'keep-last',
      'keep-hourly',
      'keep-daily',
      'keep-weekly',
      'keep-monthly',
      'keep-yearly',
    ]);
    expect(keepOptionsSchema.safeParse({ keepEvery: 1 }).success).toBe(false);
  });
});

describe('computePrune: rules', () => {
  const cases: { title: string; options: KeepOptions; snaps: Snap[]; expected: string[] }[] = [
    {
      title: 'keep-last 3 keeps the three newest',
      options: { keepLast: 3 },
      snaps: [
        snap('a', '2026-11-24T10:00:00Z'),
        snap('b', '2026-11-24T09:00:00Z'),
        snap('c', '2026-11-23T10:00:00Z'),
        snap('d', '2026-11-20T10:00:00Z'),
        snap('e', '2025-01-01T10:00:00Z'),
      ],
      expected: ['a keep last', 'b keep last', 'c keep last', 'd remove', 'e remove'],
    },
    {
      title: 'keep-hourly 2: newest per hour, then stop',
      options: { keepHourly: 2 },
      snaps: [
        snap('a', '2026-11-24T10:50:00Z'),
        snap('b', '2026-11-24T10:10:00Z'),
        snap('c', '2026-11-24T09:59:59Z'),
        snap('d', '2026-11-24T08:00:00Z'),
      ],
      // a → 2026/11/24/10 kept; b same hour → remove; c → …/09 kept (2 keys); d new key, budget full → unmarked.
      expected: ['a keep hourly', 'b remove', 'c keep hourly', 'd remove'],
    },
    {
      title: 'keep-daily 2 with several per day keeps only the newest per day',
      options: { keepDaily: 2 },
      snaps: [
        snap('a', '2026-11-24T20:00:00Z'),
        snap('b', '2026-11-24T10:00:00Z'),
        snap('c', '2026-11-24T01:00:00Z'),
        snap('d', '2026-11-23T22:00:00Z'),
        snap('e', '2026-11-23T05:00:00Z'),
        snap('f', '2026-11-22T12:00:00Z'),
      ],
      expected: ['a keep daily', 'b remove', 'c remove', 'd keep daily', 'e remove', 'f remove'],
    },
    {
      // Same as above plus generous later rules: b, c, e were marked remove by keep-daily, which is final.
      // f (2026/11/22) is still unmarked after daily; weekly's already_included holds 2026/48 (a, d) and f is in
      // week 2026/47 (Mon 11-16 … Sun 11-22), so weekly keeps f.
      title: 'older snapshots of a kept daily bucket stay removed whatever later rules say',
      options: { keepDaily: 2, keepWeekly: 10, keepMonthly: 10, keepYearly: 10 },
      snaps: [
        snap('a', '2026-11-24T20:00:00Z'),
        snap('b', '2026-11-24T10:00:00Z'),
        snap('c', '2026-11-24T01:00:00Z'),
        snap('d', '2026-11-23T22:00:00Z'),
        snap('e', '2026-11-23T05:00:00Z'),
        snap('f', '2026-11-22T12:00:00Z'),
      ],
      expected: ['a keep daily', 'b remove', 'c remove', 'd keep daily', 'e remove', 'f keep weekly'],
    },
    {
      // last 2 keeps a, b (day 11/24). Daily's already_included = {2026/11/24}, so its 2 slots go to 11/23 (d) and
      // 11/22 (f); e shares d's day → remove; g (11/21) finds the budget full → unmarked → remove.
      title: 'buckets covered by an earlier rule do not use up the budget (already_included)',
      options: { keepLast: 2, keepDaily: 2 },
      snaps: [
        snap('a', '2026-11-24T20:00:00Z'),
        snap('b', '2026-11-24T10:00:00Z'),
        snap('c', '2026-11-24T09:00:00Z'),
        snap('d', '2026-11-23T22:00:00Z'),
        snap('e', '2026-11-23T05:00:00Z'),
        snap('f', '2026-11-22T12:00:00Z'),
        snap('g', '2026-11-21T12:00:00Z'),
      ],
      // c: its day is already included → skipped, left unmarked (not "older than …") → remove at the end.
      expected: ['a keep last', 'b keep last', 'c remove', 'd keep daily', 'e remove', 'f keep daily', 'g remove'],
    },
    {
      // Rule order is fixed (last → … → yearly) whatever order the options object lists them in.
      // hourly 1 keeps a (2026/11/24/20). daily 1: 11/24 already included → b, c skipped; d (11/23) kept.
      // weekly 1: already {2026/48} (a, d); b, c, e all in week 48 → skipped; f (Sun 11-22, week 47) kept.
      // monthly 1: already {2026/11}; g (2026-10-30) kept. yearly 1: already {2026}; h (2025) kept.
      title: 'rules run last → hourly → daily → weekly → monthly → yearly',
      options: { keepYearly: 1, keepMonthly: 1, keepWeekly: 1, keepDaily: 1, keepHourly: 1 },
      snaps: [
        snap('a', '2026-11-24T20:00:00Z'),
        snap('b', '2026-11-24T10:00:00Z'),
        snap('c', '2026-11-24T09:00:00Z'),
        snap('d', '2026-11-23T22:00:00Z'),
        snap('e', '2026-11-23T05:00:00Z'),
        snap('f', '2026-11-22T12:00:00Z'),
        snap('g', '2026-10-30T12:00:00Z'),
        snap('h', '2025-06-01T12:00:00Z'),
        snap('i', '2024-06-01T12:00:00Z'),
      ],
      expected: [
        'a keep hourly',
        'b remove',
        'c remove',
        'd keep daily',
        'e remove',
        'f keep weekly',
        'g keep monthly',
        'h keep yearly',
        'i remove',
      ],
    },
    {
      // ISO weeks: a (Tue 2021-01-05) and b (Mon 01-04) → 2021/01; c (Sun 01-03), d (Fri 01-01), e (Mon 2020-12-28)
      // → 2020/53; f (Sun 12-27) → 2020/52; g (Sun 12-20) → 2020/51, budget of 3 full. A %Y/%V key would wrongly
      // put c, d in "2021/53" and e in "2020/53", keeping e instead of f.
      title: 'keep-weekly 3 across an ISO-year boundary',
      options: { keepWeekly: 3 },
      snaps: [
        snap('a', '2021-01-05T12:00:00Z'),
        snap('b', '2021-01-04T00:30:00Z'),
        snap('c', '2021-01-03T23:30:00Z'),
        snap('d', '2021-01-01T12:00:00Z'),
        snap('e', '2020-12-28T12:00:00Z'),
        snap('f', '2020-12-27T12:00:00Z'),
        snap('g', '2020-12-20T12:00:00Z'),
      ],
      expected: ['a keep weekly', 'b remove', 'c keep weekly', 'd remove', 'e remove', 'f keep weekly', 'g remove'],
    },
    {
      // monthly 2: a (2026/03) kept, b same month → remove, c (2026/02) kept, d (2026/01) → budget full, stop.
      // yearly 2: already {2026} (a, c) → d skipped (unmarked); e (2025) kept; f same year → remove; g (2024) kept;
      // h (2023) → budget full.
      title: 'keep-monthly 2 and keep-yearly 2',
      options: { keepMonthly: 2, keepYearly: 2 },
      snaps: [
        snap('a', '2026-03-10T12:00:00Z'),
        snap('b', '2026-03-01T12:00:00Z'),
        snap('c', '2026-02-15T12:00:00Z'),
        snap('d', '2026-01-20T12:00:00Z'),
        snap('e', '2025-12-31T12:00:00Z'),
        snap('f', '2025-06-01T12:00:00Z'),
        snap('g', '2024-12-01T12:00:00Z'),
        snap('h', '2023-05-05T12:00:00Z'),
      ],
      expected: [
        'a keep monthly',
        'b remove',
        'c keep monthly',
        'd remove',
        'e keep yearly',
        'f remove',
        'g keep yearly',
        'h remove',
      ],
    },
  ];

  for (const c of cases) {
    it(c.title, () => {
      expect(run(c.snaps, c.options)).toEqual(c.expected);
      expect(run(reversed(c.snaps), c.options)).toEqual(c.expected);
    });
  }

  it('explains each decision', () => {
    const snaps = [
      snap('a', '2026-11-24T20:00:00Z'),
      snap('b', '2026-11-24T10:00:00Z'),
      snap('c', '2026-11-23T22:00:00Z'),
      snap('d', '2026-11-23T05:00:00Z'),
      snap('e', '2026-11-22T12:00:00Z'),
    ];
    expect(reasons(snaps, { keepLast: 1, keepDaily: 1 })).toEqual({
      a: 'kept by keep-last (2026-11-24T20:00:00Z)',
      b: 'not selected by any keep rule',
      c: 'kept by keep-daily (2026/11/23)',
      d: 'older than a kept snapshot in the same daily bucket 2026/11/23',
      e: 'not selected by any keep rule',
    });
  });

  it('does not reorder or change its input', () => {
    const snaps = [snap('old', '2026-01-01T00:00:00Z'), snap('new', '2026-02-01T00:00:00Z')];
    const copy = structuredClone(snaps);
    const decisions = computePrune(snaps, { keepLast: 1 });
    expect(snaps).toEqual(copy);
    expect(decisions[0]!.snapshot).toBe(snaps[1]); // the caller's own objects come back
    expect(computePrune([], { keepLast: 1 })).toEqual([]);
  });
});

describe('computePrune: protected snapshots', () => {
  it('are neither counted nor removed', () => {
    // last 2: p1 protected (no slot), b kept, p3 protected, d kept; e → budget full.
    const snaps = [
      snap('p1', '2026-11-24T10:00:00Z', 'p'),
      snap('b', '2026-11-24T09:00:00Z'),
      snap('p3', '2026-11-24T08:00:00Z', 'p'),
      snap('d', '2026-11-24T07:00:00Z'),
      snap('e', '2026-11-24T06:00:00Z'),
      snap('p6', '2026-01-01T00:00:00Z', 'p'),
    ];
    // p6 comes after the rule stopped, so no rule marked it: the final step still reports it protected.
    expect(run(snaps, { keepLast: 2 })).toEqual([
      'p1 keep-protected',
      'b keep last',
      'p3 keep-protected',
      'd keep last',
      'e remove',
      'p6 keep-protected',
    ]);
    expect(reasons(snaps, { keepLast: 2 }).p6).toBe('protected');
  });

  it('do not claim a bucket: the newest unprotected snapshot of that bucket is still kept', () => {
    // daily 1: p (11/24, protected) → Protected, not Keep; b gets bucket 11/24; c same bucket → remove.
    const snaps = [
      snap('p', '2026-11-24T10:00:00Z', 'p'),
      snap('b', '2026-11-24T09:00:00Z'),
      snap('c', '2026-11-24T08:00:00Z'),
    ];
    expect(run(snaps, { keepDaily: 1 })).toEqual(['p keep-protected', 'b keep daily', 'c remove']);
    // An older protected snapshot in a kept bucket would be "remove" but for its flag.
    const older = [
      snap('a', '2026-11-24T10:00:00Z'),
      snap('p', '2026-11-24T09:00:00Z', 'p'),
      snap('c', '2026-11-24T08:00:00Z'),
    ];
    expect(run(older, { keepDaily: 1 })).toEqual(['a keep daily', 'p keep-protected', 'c remove']);
    // Across rules: last 1 keeps a (11/25), marks p Protected, stops at b. Daily's already_included is {2026/11/25}
    // only (Protected is not Keep), so b gets the 11/24 bucket.
    const across = [
      snap('a', '2026-11-25T10:00:00Z'),
      snap('p', '2026-11-24T10:00:00Z', 'p'),
      snap('b', '2026-11-24T09:00:00Z'),
    ];
    expect(run(across, { keepLast: 1, keepDaily: 1 })).toEqual(['a keep last', 'p keep-protected', 'b keep daily']);
  });

  it('win over the unfinished rule', () => {
    // u1 would be keep-partial, u3 remove (unfinished): both protected → keep-protected.
    const snaps = [
      snap('u1', '2026-11-24T10:00:00Z', 'up'),
      snap('b', '2026-11-24T09:00:00Z'),
      snap('u3', '2026-11-24T08:00:00Z', 'up'),
    ];
    expect(run(snaps, { keepLast: 1 })).toEqual(['u1 keep-protected', 'b keep last', 'u3 keep-protected']);
  });
});

describe('computePrune: unfinished snapshots', () => {
  it('keeps only an unfinished snapshot newer than every finished one, and at most one', () => {
    // Step 2: u1 is first, flag true → keep-partial; u2 flag false → remove; u4 → remove.
    // last 1 then runs over the unmarked f3, f5: f3 kept, f5 budget full. u1 used no slot.
    const snaps = [
      snap('u1', '2026-11-24T10:00:00Z', 'u'),
      snap('u2', '2026-11-24T09:00:00Z', 'u'),
      snap('f3', '2026-11-24T08:00:00Z'),
      snap('u4', '2026-11-24T07:00:00Z', 'u'),
      snap('f5', '2026-11-24T06:00:00Z'),
    ];
    expect(run(snaps, { keepLast: 1 })).toEqual([
      'u1 keep-partial',
      'u2 remove',
      'f3 keep last',
      'u4 remove',
      'f5 remove',
    ]);
    expect(reasons(snaps, { keepLast: 1 })).toMatchObject({
      u1: 'newest unfinished backup (may still be running)',
      u2: 'unfinished',
      u4: 'unfinished',
    });
  });

  it('removes an unfinished snapshot older than a finished one, even if keep rules would select it', () => {
    const snaps = [snap('f1', '2026-11-24T10:00:00Z'), snap('u2', '2026-11-23T10:00:00Z', 'u')];
    expect(run(snaps, { keepLast: 5, keepDaily: 5 })).toEqual(['f1 keep last', 'u2 remove']);
  });

  it('a kept partial snapshot does not claim its bucket', () => {
    // daily 1: u1 is keep-partial, not Keep → 11/24 not already included → f2 kept.
    const snaps = [snap('u1', '2026-11-24T10:00:00Z', 'u'), snap('f2', '2026-11-24T09:00:00Z')];
    expect(run(snaps, { keepDaily: 1 })).toEqual(['u1 keep-partial', 'f2 keep daily']);
    expect(
      run([snap('u1', '2026-11-24T10:00:00Z', 'u'), snap('u2', '2026-11-24T09:00:00Z', 'u')], { keepLast: 1 }),
    ).toEqual(['u1 keep-partial', 'u2 remove']);
  });
});

describe('computePrune: no keep option', () => {
  it('keeps everything (protected still reported as such)', () => {
    const snaps = [
      snap('u1', '2026-11-24T10:00:00Z', 'u'),
      snap('b', '2026-11-24T09:00:00Z'),
      snap('p', '2026-11-24T08:00:00Z', 'p'),
      snap('u4', '2026-11-24T07:00:00Z', 'u'),
    ];
    for (const o of [{}, { keepLast: 0, keepDaily: 0 }]) {
      const decisions = computePrune(snaps, o);
      expect(decisions.map((d) => `${d.snapshot.name} ${d.mark}`)).toEqual([
        'u1 keep',
        'b keep',
        'p keep-protected',
        'u4 keep',
      ]);
      expect(decisions[0]!.reason).toBe('no keep option given: keeping everything');
      expect(decisions.every((d) => d.rule === undefined)).toBe(true);
    }
  });
});

describe('computePrune: local time zone', () => {
  // A (2026-11-25T00:30Z), B (2026-11-24T23:30Z), C (2026-11-24T22:30Z), keep-daily 5.
  const snaps = [
    snap('A', '2026-11-25T00:30:00Z'),
    snap('B', '2026-11-24T23:30:00Z'),
    snap('C', '2026-11-24T22:30:00Z'),
  ];

  it('UTC: A is on 11/25; B and C share 11/24', () => {
    expect(run(snaps, { keepDaily: 5 })).toEqual(['A keep daily', 'B keep daily', 'C remove']);
  });

  it('Europe/Berlin (CET = UTC+1 in November): A and B share 11/25, C is on 11/24', () => {
    process.env.TZ = 'Europe/Berlin';
    // A 00:30Z + 1h = 2026-11-25 01:30; B 23:30Z + 1h = 2026-11-25 00:30; C 22:30Z + 1h = 2026-11-24 23:30.
    expect(selectionKey('daily', snaps[1]!.time)).toBe('2026/11/25');
    expect(run(snaps, { keepDaily: 5 })).toEqual(['A keep daily', 'B remove', 'C keep daily']);
    expect(reasons(snaps, { keepDaily: 5 }).B).toBe('older than a kept snapshot in the same daily bucket 2026/11/25');
  });

  it('Europe/Berlin in summer (CEST = UTC+2) and across the October DST change', () => {
    process.env.TZ = 'Europe/Berlin';
    // 2026-07-01T22:30Z + 2h = 2026-07-02 00:30.
    expect(selectionKey('daily', Date.parse('2026-07-01T22:30:00Z') / 1000)).toBe('2026/07/02');
    // DST ends Sun 2026-10-25 at 01:00Z (03:00 CEST → 02:00 CET): 00:30Z = 02:30 CEST and 01:30Z = 02:30 CET,
    // two different hours with the same local hour key, so strftime_local-style hourly puts them in one bucket.
    const dst = [snap('late', '2026-10-25T01:30:00Z'), snap('early', '2026-10-25T00:30:00Z')];
    expect(dst.map((s) => selectionKey('hourly', s.time))).toEqual(['2026/10/25/02', '2026/10/25/02']);
    expect(run(dst, { keepHourly: 5 })).toEqual(['late keep hourly', 'early remove']);
  });

  it('America/New_York (EST = UTC−5): the ISO week follows the local date', () => {
    const t = Date.parse('2021-01-04T03:00:00Z') / 1000; // Monday in UTC, week 2021/01
    expect(selectionKey('weekly', t)).toBe('2021/01');
    process.env.TZ = 'America/New_York';
    // 03:00Z − 5h = Sunday 2021-01-03 22:00 local, still in week 2020/53.
    expect(selectionKey('weekly', t)).toBe('2020/53');
    expect(selectionKey('hourly', t)).toBe('2021/01/03/22');
    // 'last' is always the UTC RFC 3339 string.
    expect(selectionKey('last', t)).toBe('2021-01-04T03:00:00Z');
  });
});

describe('snapshots dated in the future (named by a clock that was ahead)', () => {
  const now = Date.parse('2026-12-01T12:00:00Z') / 1000;
  const at = (name: string, iso: string, flags = ''): Snap => snap(name, iso, flags);
  // A backup taken once with the clock a year ahead, then daily backups named by the real time around it.
  const group = [
    at('future', '2027-12-01T10:00:00Z'),
    at('d1', '2026-11-28T09:00:00Z'),
    at('d2', '2026-11-29T09:00:00Z'),
    at('d3', '2026-11-30T09:00:00Z'),
    at('d4a', '2026-12-01T08:00:00Z'),
    at('d4b', '2026-12-01T11:00:00Z'),
  ];

  it('are kept, and take no place in the rules: keep-last and keep-daily go by the real days', () => {
    const decisions = computePrune(group, { keepLast: 1, keepDaily: 3 }, now);
    expect(decisions.map((d) => [d.snapshot.name, d.mark, d.rule].filter(Boolean).join(' '))).toEqual([
      'future keep-future',
      'd4b keep last',
      'd4a remove',
      'd3 keep daily',
      'd2 keep daily',
      'd1 keep daily',
    ]);
    expect(decisions[0]!.reason).toBe(
      'dated in the future (2027-12-01T10:00:00Z): named by a clock that was ahead; kept until that time',
    );
    // Without "now" (as PBS does it) the future snapshot uses up keep-last and is one of keep-daily's days.
    expect(run(group, { keepLast: 1, keepDaily: 3 })).toEqual([
      'future keep last',
      'd4b keep daily',
      'd4a remove',
      'd3 keep daily',
      'd2 keep daily',
      'd1 remove',
    ]);
  });

  it('a little ahead (another computer\'s clock, within 5 minutes) is not "the future"', () => {
    const soon = [at('soon', '2026-12-01T12:04:00Z'), at('earlier', '2026-12-01T11:00:00Z')];
    expect(computePrune(soon, { keepLast: 1 }, now).map((d) => d.mark)).toEqual(['keep', 'remove']);
  });

  it('do not keep an older unfinished snapshot from being the newest one (a backup still running)', () => {
    const running = [
      at('future', '2027-12-01T10:00:00Z'),
      at('running', '2026-12-01T11:59:00Z', 'u'),
      at('old', '2026-11-01T00:00:00Z'),
    ];
    expect(computePrune(running, { keepLast: 1 }, now).map((d) => `${d.snapshot.name} ${d.mark}`)).toEqual([
      'future keep-future',
      'running keep-partial',
      'old keep',
    ]);
  });
});
