import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import { decodeDirectoryRecord, decodeDirectoryRecordPage } from '../../../core/archive/archive-format.js';
import { EntryKind } from '../../../core/archive/archive-format.js';
import { browseFolder } from '../../../host/store-views.js';
import { useDatastore } from '../../support/folder-store.js';
import { expectCode } from '../../support/errors.js';
import { useTempDirs } from '../../support/temp.js';

describe('a large folder is read a page at a time', () => {
  const ds = useDatastore();
  const scratch = useTempDirs();

  async function bigFolderSnapshot(id: string): Promise<FolderArchiveReader> {
    const src = scratch();
    mkdirSync(join(src, 'big'));
    // About 110 bytes of record per entry: 12,000 entries pass the 1 MiB a record is paged from.
    for (let i = 0; i < 12_000; i++) writeFileSync(join(src, 'big', `entry-${String(i).padStart(6, '0')}.txt`), `${i}`);
    mkdirSync(join(src, 'big', 'sub'));
    const result = await backupFolder(ds.store, src, { id });
    return new FolderArchiveReader(ds.store.openSnapshot(ds.store.snapshotInfo(result.snapshot)));
  }

  it('gives the same entries as the whole listing, page by page, with the total', async () => {
    const reader = await bigFolderSnapshot('pages');
    const dir = reader.get('big');
    expect(dir.kind === EntryKind.Directory && dir.recordLength).toBeGreaterThan(1024 * 1024);
    const all = new FolderArchiveReader(reader.snapshot).list('big');
    expect(all).toHaveLength(12_001);
    for (const [offset, limit] of [
      [0, 200],
      [5_000, 300],
      [11_900, 500],
      [12_001, 10],
    ] as const) {
      const page = reader.listPage('big', offset, limit);
      expect(page.total).toBe(12_001);
      expect(page.entries).toEqual(all.slice(offset, offset + limit));
    }
    const browsed = browseFolder(reader, 'big', 12_000, 5);
    expect(browsed.entries.map((e) => e.path)).toEqual(['big/sub']);
  });

  it('refuses a page of a damaged record as the whole decode does: cut short, out of order', async () => {
    const reader = await bigFolderSnapshot('damaged-pages');
    const dir = reader.get('big');
    if (dir.kind !== EntryKind.Directory) throw new Error('not a folder');
    const raw = reader.meta.read(dir.recordOffset, dir.recordLength);
    const place = { recordOffset: dir.recordOffset, payloadBase: dir.payloadBase ?? 0 };
    const cut = raw.subarray(0, raw.length - 10);
    expect(() => decodeDirectoryRecord(cut, 'cut', place)).toThrow(/truncated/);
    await expectCode(() => decodeDirectoryRecordPage(cut, 'cut', place, 0, 100), 'CORRUPT', /truncated/);
    // Two neighbouring names swapped: the page that starts at the second sees it follow a later name.
    const swapped = Buffer.from(raw);
    const first = swapped.indexOf('entry-000100');
    const second = swapped.indexOf('entry-000101');
    swapped.write('entry-000101', first, 'latin1');
    swapped.write('entry-000100', second, 'latin1');
    await expectCode(() => decodeDirectoryRecordPage(swapped, 'swapped', place, 101, 10), 'CORRUPT', /not sorted/);
    expect(decodeDirectoryRecordPage(Buffer.from(raw), 'intact', place, 101, 10).entries).toHaveLength(10);
  });
});
