import { describe, expect, it } from 'vitest';
import {
  assertArchiveFileName,
  assertBackupId,
  assertBackupType,
  BACKUP_TYPES,
  formatBackupTime,
  groupPath,
  isArchiveFileName,
  isBackupTimeString,
  isBackupType,
  isValidBackupId,
  parseBackupTime,
  parseGroupPath,
  parseSnapshotPath,
  snapshotPath,
  toBackupId,
} from '../../../core/backup/backup-names.js';
import { CairnError } from '../../../core/errors.js';

/** Runs `fn`, which must throw a CairnError with `code`; returns it for further checks. */
function caught(fn: () => unknown, code: string): CairnError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CairnError);
    expect((err as CairnError).code).toBe(code);
    return err as CairnError;
  }
  throw new Error('expected a CairnError, but nothing was thrown');
}

describe('backup types', () => {
  it('are exactly vm, ct and host, in PBS sort order', () => {
    expect([...BACKUP_TYPES]).toEqual(['ct', 'host', 'vm']);
    for (const t of ['vm', 'ct', 'host']) {
      expect(isBackupType(t)).toBe(true);
      expect(assertBackupType(t)).toBe(t);
    }
    for (const t of ['VM', 'Host', 'hosts', 'ns', '', ' host', 'host/']) {
      expect(isBackupType(t)).toBe(false);
      expect(caught(() => assertBackupType(t), 'INVALID_NAME').message).toContain(JSON.stringify(t));
    }
  });
});

describe('backup ids', () => {
  it('accepts SAFE_ID names', () => {
    for (const id of [
      'a',
      'Z',
      '0',
      '_',
      'docs',
      'My-Documents',
      'vm_100',
      'host.example.com',
      'a..b',
      'a-',
      'a.',
      '_x',
      '9-9',
    ]) {
      expect(isValidBackupId(id), id).toBe(true);
      expect(assertBackupId(id)).toBe(id);
    }
  });

  it('rejects anything else, naming the id in the error', () => {
    const bad = [
      '',
      '.',
      '..',
      '.x',
      '-x',
      'a/b',
      'a\\b',
      'a b',
      'café',
      'ドキュメント',
      'a:b',
      'a\nb',
      'a\0b',
      '*',
      'a+b',
    ];
    for (const id of bad) {
      expect(isValidBackupId(id), JSON.stringify(id)).toBe(false);
      expect(caught(() => assertBackupId(id), 'INVALID_NAME').message).toContain(JSON.stringify(id));
    }
  });

  it('limits the length to 128 characters', () => {
    expect(isValidBackupId('a'.repeat(128))).toBe(true);
    expect(isValidBackupId('a'.repeat(129))).toBe(false);
    caught(() => assertBackupId('x'.repeat(300)), 'INVALID_NAME');
  });

  it('toBackupId turns odd folder names into valid ids', () => {
    const cases: [string, string | undefined][] = [
      ['My Documents', 'My-Documents'],
      ['Café', 'Cafe'],
      ['Übergrößen', 'Ubergro-en'], // ß has no ASCII decomposition,
      ['  spaced  out  ', 'spaced-out'],
      ['.config', 'config'],
      ['-dash', 'dash'],
      ['a/b\\c', 'a-b-c'],
      ['photos (2024)', 'photos-2024'],
      ['disk.img', 'disk.img'],
      ['...', undefined],
      ['', undefined],
      ['---', undefined],
      ['日本語', undefined],
    ];
    for (const [name, id] of cases) {
      const got = toBackupId(name);
      expect(got, JSON.stringify(name)).toBe(id);
      if (got !== undefined) expect(isValidBackupId(got)).toBe(true);
    }
    const long = toBackupId('x'.repeat(500));
    expect(long).toBe('x'.repeat(128));
  });
});

describe('backup times', () => {
  it('format as RFC 3339 UTC with second resolution and a Z suffix, and parse back', () => {
    expect(formatBackupTime(1593179765)).toBe('2020-06-26T13:56:05Z');
    expect(parseBackupTime('2020-06-26T13:56:05Z')).toBe(1593179765);
    expect(formatBackupTime(1)).toBe('1970-01-01T00:00:01Z');
    for (const t of [
      1, 59, 951782400, 1709164800 /* 2024-02-29 */, 1717597476, 2147483648, 253402300799 /* 9999-12-31T23:59:59Z */,
    ]) {
      const s = formatBackupTime(t);
      expect(s).toMatch(/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/);
      expect(isBackupTimeString(s)).toBe(true);
      expect(parseBackupTime(s)).toBe(t);
    }
    expect(formatBackupTime(1709164800)).toBe('2024-02-29T00:00:00Z');
  });

  it('refuse to format times that are not whole seconds after the epoch or beyond year 9999', () => {
    for (const t of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])
      caught(() => formatBackupTime(t), 'INVALID_NAME');
    caught(() => formatBackupTime(253402300800), 'INVALID_NAME');
  });

  it('reject strings that are not real UTC times', () => {
    const bad = [
      '2024-02-30T00:00:00Z', // no such day
      '2023-02-29T00:00:00Z', // not a leap year
      '2024-01-01T24:00:00Z', // hour 24
      '2024-01-01T00:60:00Z',
      '2024-01-01T00:00:60Z',
      '2024-13-01T00:00:00Z',
      '2024-00-10T00:00:00Z',
      '2024-01-01T00:00:00', // missing Z
      '2024-01-01T00:00:00+00:00',
      '2024-01-01T00:00:00.5Z', // fractional seconds
      '2024-01-01T00:00:00.000Z',
      '2024-01-01 00:00:00Z',
      '2024-1-1T00:00:00Z',
      '1970-01-01T00:00:00Z', // epoch 0
      '',
      'yesterday',
    ];
    for (const s of bad) {
      const err = caught(() => parseBackupTime(s), 'INVALID_NAME');
      expect(err.message).toContain(JSON.stringify(s));
    }
    expect(isBackupTimeString('2024-01-01T00:00:00')).toBe(false);
  });
});

describe('group and snapshot paths', () => {
  it('parse good paths and print them back', () => {
    expect(parseGroupPath('host/docs')).toEqual({ type: 'host', id: 'docs' });
    expect(parseGroupPath('vm/100')).toEqual({ type: 'vm', id: '100' });
    expect(groupPath({ type: 'ct', id: 'web.1' })).toBe('ct/web.1');
    const ref = parseSnapshotPath('host/docs/2024-06-05T14:24:36Z');
    expect(ref).toEqual({ type: 'host', id: 'docs', time: Date.UTC(2024, 5, 5, 14, 24, 36) / 1000 });
    expect(snapshotPath(ref)).toBe('host/docs/2024-06-05T14:24:36Z');
  });

  it('reject bad group paths', () => {
    for (const s of [
      '',
      'host',
      'host/',
      '/docs',
      'host/docs/',
      'host/docs/extra',
      'host/..',
      'host/.',
      '../docs',
      'HOST/docs',
      'file/docs',
      'host/a b',
      'host//docs',
    ]) {
      caught(() => parseGroupPath(s), 'INVALID_NAME');
    }
  });

  it('reject bad snapshot paths', () => {
    for (const s of [
      'host/docs',
      'host/docs/2024-06-05T14:24:36Z/extra',
      'host/../2024-06-05T14:24:36Z',
      '../docs/2024-06-05T14:24:36Z',
      'host/docs/..',
      'host/docs/2024-06-05T14:24:36',
      'host/docs/2024-02-30T00:00:00Z',
      'host/docs/2024-06-05T14:24:36Z/',
      '/host/docs/2024-06-05T14:24:36Z',
      'x/docs/2024-06-05T14:24:36Z',
    ]) {
      caught(() => parseSnapshotPath(s), 'INVALID_NAME');
    }
  });
});

describe('archive names', () => {
  it('are SAFE_ID names ending in .fidx, .didx or .blob, other than the manifest', () => {
    for (const name of [
      'disk.img.fidx',
      'root.pxar.didx',
      'catalog.pcat1.didx',
      'qemu-server.conf.blob',
      'client.log.blob',
      'a.fidx',
      '_x.blob',
    ]) {
      expect(isArchiveFileName(name), name).toBe(true);
      expect(assertArchiveFileName(name)).toBe(name);
    }
    for (const name of [
      'index.json.blob',
      'disk.img',
      'x.txt',
      '.fidx',
      '.x.blob',
      '-x.didx',
      '../x.didx',
      'a/b.fidx',
      'x.tmp_fidx',
      'x.fidx.tmp_abc123',
      'é.blob',
      '',
      `${'a'.repeat(196)}.blob`,
    ]) {
      expect(isArchiveFileName(name), name).toBe(false);
      expect(caught(() => assertArchiveFileName(name), 'INVALID_NAME').message).toContain(JSON.stringify(name));
    }
    expect(isArchiveFileName(`${'a'.repeat(195)}.blob`)).toBe(true);
  });
});
