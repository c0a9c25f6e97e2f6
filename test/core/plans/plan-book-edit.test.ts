import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlanInput } from '../../../contract/plans.js';
import { PlanBook } from '../../../core/plans/plan-book.js';
import { useTempDirs } from '../../support/temp.js';

describe('PlanBook.edit', () => {
  const temp = useTempDirs();
  const input = (name: string, store: string): PlanInput => ({
    name,
    store,
    sources: [{ kind: 'folder', path: '/src' }],
  });

  it('refuses moving a plan into a store where another plan already backs up into its group (add refused it)', () => {
    const dir = temp('plans');
    const book = new PlanBook(dir);
    const first = book.add(input('Docs', '/stores/a'));
    // Another name that makes the same group id, in another store: allowed.
    const other = book.add(input('Docs!', '/stores/c'));
    expect(other.groupId).toBe(first.groupId);
    const before = readFileSync(join(dir, 'plans.json'));
    expect(() => book.edit(other.id, { store: '/stores/a' })).toThrow(
      /the plan "Docs" already backs up into host\/Docs in \/stores\/a; this plan cannot back up into that store too/,
    );
    expect(readFileSync(join(dir, 'plans.json'))).toEqual(before);
  });

  it('a patch function sees the plan as it is under the lock', () => {
    const book = new PlanBook(temp('plans'));
    const plan = book.add({ ...input('Docs', '/stores/a'), maintenance: { gcEveryDays: 3 } });
    const edited = book.edit(plan.id, (old) => ({ maintenance: { ...old.maintenance, verifyNew: true } }));
    expect(edited.maintenance).toEqual({ gcEveryDays: 3, verifyNew: true, fullVerifyEveryDays: 30 });
    expect(edited.groupId).toBe(plan.groupId);
  });
});
