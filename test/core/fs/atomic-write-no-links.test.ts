import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { writeFileAtomicSync } from '../../../core/fs/atomic-write.js';
import { expectCairnError } from '../../support/errors.js';
import { useTempDirs } from '../../support/temp.js';

// A filesystem without hard links (FAT, exFAT, some shares): link(2) answers EPERM.
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const linkSync = () => {
    throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' });
  };
  return { ...fs, linkSync, default: { ...fs, linkSync } };
});

describe('writeFileAtomicSync with noReplace where there are no hard links', () => {
  const temp = useTempDirs();

  it('still creates a new file and still refuses an existing one', () => {
    const dir = temp('atomic');
    writeFileAtomicSync(join(dir, 'key.json'), 'new', { noReplace: true, mode: 0o600 });
    expect(readFileSync(join(dir, 'key.json'), 'utf8')).toBe('new');
    writeFileSync(join(dir, 'old.json'), 'old');
    expectCairnError(() => writeFileAtomicSync(join(dir, 'old.json'), 'x', { noReplace: true }), 'ALREADY_EXISTS');
    expect(readFileSync(join(dir, 'old.json'), 'utf8')).toBe('old');
    expect(readdirSync(dir).sort()).toEqual(['key.json', 'old.json']);
  });
});
