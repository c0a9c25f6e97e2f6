import { closeSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomicSync, writevAllSync } from '../../../core/fs/atomic-write.js';
import { expectCairnError } from '../../support/errors.js';
import { useTempDirs } from '../../support/temp.js';

describe('writeFileAtomicSync with noReplace', () => {
  const temp = useTempDirs();

  it('creates a new file whole, with its mode, and leaves no tmp file', () => {
    const dir = temp('atomic');
    writeFileAtomicSync(join(dir, 'key.json'), 'new', { noReplace: true, fsync: true, mode: 0o600 });
    expect(readFileSync(join(dir, 'key.json'), 'utf8')).toBe('new');
    expect(statSync(join(dir, 'key.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['key.json']);
  });

  it('refuses an existing name (a file, a dangling symlink), keeping it, and leaves no tmp file', () => {
    const dir = temp('atomic');
    writeFileSync(join(dir, 'key.json'), 'old');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'link.json'));
    for (const name of ['key.json', 'link.json'])
      expectCairnError(
        () => writeFileAtomicSync(join(dir, name), 'new', { noReplace: true }),
        'ALREADY_EXISTS',
        new RegExp(`${name} exists already`),
      );
    expect(readFileSync(join(dir, 'key.json'), 'utf8')).toBe('old');
    expect(readdirSync(dir).sort()).toEqual(['key.json', 'link.json']);
    writeFileAtomicSync(join(dir, 'key.json'), 'new');
    expect(readFileSync(join(dir, 'key.json'), 'utf8')).toBe('new');
  });
});

describe('writing pieces', () => {
  const temp = useTempDirs();

  it('writeFileAtomicSync writes pieces in order, empty ones too, as one file', () => {
    const dir = temp('atomic');
    const pieces = [Buffer.from('head'), Buffer.alloc(0), Buffer.alloc(300_000, 7), Buffer.from('tail')];
    writeFileAtomicSync(join(dir, 'blob'), pieces);
    expect(readFileSync(join(dir, 'blob'))).toEqual(Buffer.concat(pieces));
    expect(readdirSync(dir)).toEqual(['blob']);
  });

  it('writevAllSync goes on at the file position, after what is there', () => {
    const dir = temp('atomic');
    const fd = openSync(join(dir, 'f'), 'w');
    writevAllSync(fd, [Buffer.from('ab'), Buffer.from('cd')]);
    writevAllSync(fd, [Buffer.alloc(0)]);
    writevAllSync(fd, [Buffer.from('e')]);
    closeSync(fd);
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('abcde');
  });
});
