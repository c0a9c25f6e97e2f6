import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBackupTime, type BackupGroupRef, type SnapshotRef } from '../../../core/backup/backup-names.js';
import { decodeManifest, encodeManifest, MANIFEST_NAME } from '../../../core/backup/manifest.js';
import { encodeBlob } from '../../../core/blob/data-blob.js';
import { sha256 } from '../../../core/chunk-store/digest.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { CONFIG_FILE, newConfig, writeConfig, type Compression } from '../../../core/datastore/datastore-config.js';
import type { SyncLevel } from '../../../core/chunk-store/chunk-store.js';
import { CairnError } from '../../../core/errors.js';
import { DynamicIndexWriter } from '../../../core/index/dynamic-index.js';
import { pseudoRandomBytes, textBytes } from '../../support/data.js';
import { expectCode } from '../../support/errors.js';
import { tempDir, useTempDirs } from '../../support/temp.js';

const CHUNK = 64 * 1024;

interface CreateObservations {
  /** Entries of the root after a create that was cancelled after the first 1024 chunk directories. */
  interruptedEntries: string[];
  interruptedPrefixes: number;
  /** The error of Datastore.open on that interrupted store. */
  openError: unknown;
  /** (done, total) of the resumed create's progress calls. */
  progress: [number, number][];
}

/**
 * One real datastore shared by the tests of a describe block (creating one makes 65536 directories). It is made
 * the way a user whose first attempt was interrupted would make it: a create cancelled after its first progress
 * report, then a second create in the same folder that resumes it.
 */
function useSharedStore(): { store: () => Datastore; observed: () => CreateObservations } {
  let base: string | undefined;
  let store: Datastore | undefined;
  let observed: CreateObservations | undefined;
  beforeAll(async () => {
    base = tempDir('test');
    const root = join(base, 'store');
    const ac = new AbortController();
    let cancelError: unknown;
    try {
      await Datastore.create(root, {
        chunkSize: CHUNK,
        syncLevel: 'none',
        signal: ac.signal,
        onProgress: () => ac.abort(),
      });
    } catch (err) {
      cancelError = err;
    }
    expect(cancelError).toMatchObject({ code: 'CANCELLED' });
    const interruptedEntries = readdirSync(root).sort();
    const interruptedPrefixes = readdirSync(join(root, '.chunks')).length;
    let openError: unknown;
    try {
      Datastore.open(root);
    } catch (err) {
      openError = err;
    }
    const progress: [number, number][] = [];
    store = await Datastore.create(root, {
      chunkSize: CHUNK,
      syncLevel: 'none',
      onProgress: (done, total) => progress.push([done, total]),
    });
    observed = { interruptedEntries, interruptedPrefixes, openError, progress };
  });
  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('shared datastore was not created');
    return v;
  };
  return { store: () => need(store), observed: () => need(observed) };
}

/** Every path under `dir`, relative, recursively. */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    out.push(`${prefix}${e.name}`);
    if (e.isDirectory()) out.push(...walk(join(dir, e.name), `${prefix}${e.name}/`));
  }
  return out;
}

/** Stores `pieces` as chunks and writes a .didx of them plus a blob, then finishes the snapshot. */
function writeSnapshot(
  store: Datastore,
  group: BackupGroupRef,
  pieces: Buffer[],
  options: { time?: number } = {},
): { ref: SnapshotRef; data: Buffer; blob: Buffer } {
  const writer = store.beginSnapshot(group, options);
  const index = writer.createDynamicIndex('data.didx');
  for (const piece of pieces) {
    const digest = sha256(piece);
    store.chunks.insert(digest, encodeBlob(piece, { compress: true }));
    index.add(piece.length, digest);
  }
  writer.closeIndex(index);
  const blob = Buffer.from(`config of ${group.id}\n`);
  writer.addBlob('meta.conf.blob', blob);
  writer.finish();
  return { ref: writer.ref, data: Buffer.concat(pieces), blob };
}

describe('Datastore.create', () => {
  const tmp = useTempDirs();

  it('defaults to 4 MiB chunks, zstd and the filesystem sync level', () => {
    expect(newConfig({})).toMatchObject({
      format: 'cairn-datastore',
      version: 1,
      chunkSize: 4 * 1024 * 1024,
      compression: 'zstd',
      syncLevel: 'filesystem',
    });
  });

  it('refuses a non-empty folder and deletes nothing', async () => {
    const root = tmp();
    writeFileSync(join(root, 'photo.jpg'), 'not a datastore');
    await expectCode(
      Datastore.create(root, { chunkSize: CHUNK, syncLevel: 'none' }),
      'ALREADY_EXISTS',
      /not empty \(found photo\.jpg\)/,
    );
    expect(readdirSync(root)).toEqual(['photo.jpg']);
    expect(readFileSync(join(root, 'photo.jpg'), 'utf8')).toBe('not a datastore');
  });

  it('refuses a path that is a file', async () => {
    const file = join(tmp(), 'file');
    writeFileSync(file, 'x');
    await expectCode(
      Datastore.create(file, { syncLevel: 'none' }),
      'INVALID_ARGUMENT',
      /file exists and is not a folder/,
    );
    await expectCode(
      Datastore.create(join(file, 'sub'), { syncLevel: 'none' }),
      'IO',
      /cannot make \S*file\/sub: \S*file exists and is not a folder/,
    );
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('rejects invalid options before touching the disk', async () => {
    const root = join(tmp(), 'store');
    await expectCode(
      Datastore.create(root, { chunkSize: 3 * 1024 * 1024 }),
      'INVALID_ARGUMENT',
      /invalid chunk size 3145728/,
    );
    await expectCode(Datastore.create(root, { chunkSize: 32 * 1024 }), 'INVALID_ARGUMENT', /invalid chunk size/);
    await expectCode(
      Datastore.create(root, { compression: 'lz4' as Compression }),
      'INVALID_ARGUMENT',
      /invalid compression "lz4"/,
    );
    await expectCode(
      Datastore.create(root, { syncLevel: 'x' as SyncLevel }),
      'INVALID_ARGUMENT',
      /invalid sync level "x"/,
    );
    expect(existsSync(root)).toBe(false);
  });
});

describe('Datastore.open', () => {
  const tmp = useTempDirs();

  it('reports a missing path as NOT_FOUND', async () => {
    const root = join(tmp(), 'nowhere');
    await expectCode(() => Datastore.open(root), 'NOT_FOUND', new RegExp(`datastore ${root} does not exist`));
  });

  it('reports a plain folder as NOT_A_DATASTORE, naming it', async () => {
    const root = tmp();
    writeFileSync(join(root, 'file.txt'), 'hello');
    const e = await expectCode(() => Datastore.open(root), 'NOT_A_DATASTORE');
    expect(e.message).toContain(root);
    expect(e.message).toContain(CONFIG_FILE);
  });

  it('reports a config without .chunks as NOT_A_DATASTORE', async () => {
    const root = tmp();
    writeConfig(root, newConfig({ chunkSize: CHUNK, syncLevel: 'none' }));
    await expectCode(() => Datastore.open(root), 'NOT_A_DATASTORE', /no \.chunks directory/);
  });

  it('reports a corrupt config as CORRUPT, naming the file', async () => {
    const root = tmp();
    const path = join(root, CONFIG_FILE);
    const good = newConfig({ chunkSize: CHUNK, syncLevel: 'none' });
    const cases: [string, RegExp][] = [
      ['{ not json', /not valid JSON/],
      ['', /not valid JSON/],
      [JSON.stringify({ ...good, format: 'other' }), /not a version 1/],
      [JSON.stringify({ ...good, version: 2 }), /not a version 1/],
      [JSON.stringify({ ...good, chunkSize: 1000 }), /invalid chunkSize/],
      [JSON.stringify({ ...good, compression: 'lz4' }), /compression/],
      [JSON.stringify({ ...good, syncLevel: 'always' }), /syncLevel/],
      [JSON.stringify(good).slice(0, 40), /not valid JSON/],
      ['null', /not a version 1/],
      ['[1]', /not a version 1/],
      ['"cairn-datastore"', /not a version 1/],
      [JSON.stringify({ ...good, chunkSize: '1048576' }), /invalid chunkSize/],
      [JSON.stringify({ format: good.format, version: 1 }), /invalid chunkSize, compression or syncLevel/],
    ];
    for (const [text, pattern] of cases) {
      writeFileSync(path, text);
      const e = await expectCode(() => Datastore.open(root), 'CORRUPT', pattern);
      expect(e.message.startsWith(`${path}: `)).toBe(true);
    }
  });
});

describe('a datastore', () => {
  const { store, observed } = useSharedStore();

  it('is created by resuming an interrupted create: .cairn-store.json, an empty .lock, all 65536 .chunks directories and the 1 MiB reserve', async () => {
    const seen = observed();
    // What the interrupted create left behind: only .lock and a partial .chunks, which is not yet a datastore.
    expect(seen.interruptedEntries).toEqual(['.chunks', '.lock']);
    expect(seen.interruptedPrefixes).toBeGreaterThan(0);
    expect(seen.interruptedPrefixes).toBeLessThan(65536);
    expect(seen.openError).toBeInstanceOf(CairnError);
    expect((seen.openError as CairnError).code).toBe('NOT_A_DATASTORE');
    expect(seen.progress.at(-1)).toEqual([65536, 65536]);

    const root = store().root;
    expect(
      readdirSync(root)
        .filter((e) => e.startsWith('.'))
        .sort(),
    ).toEqual(['.cairn-reserve', '.cairn-store.json', '.chunks', '.lock']);
    expect(statSync(join(root, '.cairn-reserve')).size).toBe(1024 * 1024);
    expect(statSync(join(root, '.lock')).size).toBe(0);
    const prefixes = readdirSync(join(root, '.chunks'));
    expect(prefixes.length).toBe(65536);
    expect(new Set(prefixes).size).toBe(65536);
    expect(prefixes.every((p) => /^[0-9a-f]{4}$/.test(p))).toBe(true);
    expect(
      statSync(join(root, '.chunks', '0000')).isDirectory() && statSync(join(root, '.chunks', 'ffff')).isDirectory(),
    ).toBe(true);

    const text = readFileSync(join(root, CONFIG_FILE), 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    const config = JSON.parse(text) as Record<string, unknown>;
    expect(config).toEqual({
      format: 'cairn-datastore',
      version: 1,
      chunkSize: CHUNK,
      compression: 'zstd',
      syncLevel: 'none',
      created: config.created,
    });
    expect(Number.isNaN(Date.parse(String(config.created)))).toBe(false);
    expect(store().config).toEqual(config);
    expect(Datastore.open(root).config).toEqual(config);
    expect(Datastore.open(root).chunks.syncLevel).toBe('none');
  });

  it('refuses to create over an existing datastore, leaving it byte-identical', async () => {
    const s = store();
    const { ref } = writeSnapshot(s, { type: 'host', id: 'keep' }, [textBytes(3000, 9)]);
    const configBefore = readFileSync(join(s.root, CONFIG_FILE));
    const manifestBefore = readFileSync(join(s.snapshotDir(ref), MANIFEST_NAME));
    await expectCode(
      Datastore.create(s.root, { chunkSize: CHUNK, syncLevel: 'none' }),
      'ALREADY_EXISTS',
      /already a Cairn datastore/,
    );
    expect(readFileSync(join(s.root, CONFIG_FILE)).equals(configBefore)).toBe(true);
    expect(readFileSync(join(s.snapshotDir(ref), MANIFEST_NAME)).equals(manifestBefore)).toBe(true);
    expect(readdirSync(join(s.root, '.chunks')).length).toBe(65536);
    expect(Datastore.open(s.root).snapshotInfo(ref).finished).toBe(true);
  });

  it('writes indexes and blobs first and the manifest last; listings show the finished snapshot and its files', () => {
    const s = store();
    const group = { type: 'host', id: 'docs' } as const;
    const pieces = [pseudoRandomBytes(40_000, 'ds1'), textBytes(70_000, 3), Buffer.alloc(10_000)];
    const writer = s.beginSnapshot(group);
    expect(writer.path).toBe(`host/docs/${formatBackupTime(writer.ref.time)}`);
    const index = writer.createDynamicIndex('data.didx');
    for (const piece of pieces) {
      const digest = sha256(piece);
      expect(s.chunks.insert(digest, encodeBlob(piece, { compress: true })).duplicate).toBe(false);
      index.add(piece.length, digest);
    }
    expect(readdirSync(writer.dir)).toEqual(['data.tmp_didx']);
    writer.closeIndex(index);
    const blob = Buffer.from('{"answer":42}\n');
    writer.addBlob('meta.json.blob', blob);
    expect(() => writer.addBlob('meta.json.blob', blob)).toThrow(/already exists/);
    expect(() => writer.addBlob('../evil.blob', blob)).toThrow(CairnError);
    expect(() => writer.createDynamicIndex('x.fidx')).toThrow(/must end in \.didx/);

    // Before finish: no manifest, listed as unfinished with its files.
    expect(readdirSync(writer.dir).sort()).toEqual(['data.didx', 'meta.json.blob']);
    expect(s.snapshotInfo(writer.ref)).toMatchObject({ finished: false, files: ['data.didx', 'meta.json.blob'] });

    const manifest = writer.finish({ notes: 'first backup' });
    expect(() => writer.addBlob('late.blob', blob)).toThrow(/already finished/);
    expect(readdirSync(writer.dir).sort()).toEqual(['data.didx', MANIFEST_NAME, 'meta.json.blob']);

    // The manifest on disk lists both archives with their sizes and checksums.
    const onDisk = decodeManifest(readFileSync(join(writer.dir, MANIFEST_NAME)), 'manifest');
    expect(onDisk).toEqual(manifest);
    expect(onDisk).toMatchObject({
      'backup-type': 'host',
      'backup-id': 'docs',
      'backup-time': writer.ref.time,
      unprotected: { notes: 'first backup' },
    });
    const didx = readFileSync(join(writer.dir, 'data.didx'));
    const rawBlob = readFileSync(join(writer.dir, 'meta.json.blob'));
    expect(onDisk.files).toEqual([
      {
        filename: 'data.didx',
        'crypt-mode': 'none',
        size: 120_000,
        csum: createHash('sha256').update(didx.subarray(4096)).digest('hex'),
      },
      {
        filename: 'meta.json.blob',
        'crypt-mode': 'none',
        size: rawBlob.length,
        csum: createHash('sha256').update(rawBlob).digest('hex'),
      },
    ]);
    expect(didx.subarray(32, 64).toString('hex')).toBe(onDisk.files[0]!.csum);

    const groups = s.listGroups().filter((g) => g.id === 'docs');
    expect(groups).toEqual([
      {
        type: 'host',
        id: 'docs',
        path: 'host/docs',
        owner: `${userInfo().username}@local`,
        snapshotCount: 1,
        unfinishedCount: 0,
        lastBackup: writer.ref.time,
      },
    ]);
    expect(s.listSnapshots(group)).toEqual([
      {
        type: 'host',
        id: 'docs',
        time: writer.ref.time,
        path: writer.path,
        finished: true,
        protected: false,
        files: ['data.didx', 'meta.json.blob'],
      },
    ]);
    expect(s.latestSnapshot(group)?.time).toBe(writer.ref.time);

    // Read back through a fresh handle: the archive and the blob are intact.
    const reader = Datastore.open(s.root).openSnapshot(writer.ref);
    const opened = reader.openIndex('data.didx');
    expect(opened.size).toBe(120_000);
    expect(Buffer.concat([...reader.readRange(opened)]).equals(Buffer.concat(pieces))).toBe(true);
    expect(
      Buffer.concat([...reader.readRange(opened, 39_990, 40_010)]).equals(
        Buffer.concat(pieces).subarray(39_990, 40_010),
      ),
    ).toBe(true);
    expect(reader.readBlob('meta.json.blob').equals(blob)).toBe(true);
    expect(() => reader.openIndex('nope.didx')).toThrow(
      /has no archive nope\.didx \(it has: data\.didx, meta\.json\.blob\)/,
    );
  });

  it('shows a snapshot without finish as unfinished; readManifest says so', async () => {
    const s = store();
    const group = { type: 'vm', id: '101' } as const;
    const done = writeSnapshot(s, group, [textBytes(1000, 101)]);
    const writer = s.beginSnapshot(group);
    writer.addBlob('qemu-server.conf.blob', Buffer.from('memory: 512\n'));
    expect(s.listSnapshots(group).map((x) => [x.time, x.finished])).toEqual([
      [done.ref.time, true],
      [writer.ref.time, false],
    ]);
    expect(s.snapshotInfo(writer.ref).files).toEqual(['qemu-server.conf.blob']);
    await expectCode(() => s.readManifest(writer.ref), 'NOT_FOUND', /unfinished/);
    await expectCode(() => s.openSnapshot(writer.ref), 'NOT_FOUND', /unfinished/);
    expect(s.latestSnapshot(group)?.time).toBe(done.ref.time);
    const info = s.listGroups().find((g) => g.type === 'vm' && g.id === '101');
    expect(info).toMatchObject({ snapshotCount: 2, unfinishedCount: 1, lastBackup: done.ref.time });
    const missing = { ...group, time: done.ref.time - 1 };
    await expectCode(() => s.readManifest(missing), 'NOT_FOUND', /does not exist/);
    await expectCode(() => s.snapshotInfo(missing), 'NOT_FOUND', /does not exist/);
    writer.abort();
  });

  it('abort() removes the snapshot directory and leaves no tmp files', () => {
    const s = store();
    const group = { type: 'ct', id: 'aborted' } as const;
    const writer = s.beginSnapshot(group);
    const index = writer.createDynamicIndex('root.pxar.didx');
    const piece = pseudoRandomBytes(1000, 'abort');
    s.chunks.insert(sha256(piece), encodeBlob(piece, { compress: true }));
    index.add(piece.length, sha256(piece));
    writer.addBlob('a.blob', Buffer.from('a'));
    const fidx = writer.createFixedIndex('disk.img.fidx', CHUNK);
    fidx.set(0, 100, sha256(piece));
    expect(walk(s.groupDir(group)).some((p) => p.endsWith('root.pxar.tmp_didx'))).toBe(true);
    writer.abort();
    writer.abort(); // a second abort does nothing
    expect(existsSync(writer.dir)).toBe(false);
    expect(walk(s.groupDir(group))).toEqual(['owner']);
    expect(s.listSnapshots(group)).toEqual([]);
    expect(s.chunks.exists(sha256(piece))).toBe(true); // chunks stay for GC
    expect(() => writer.finish()).toThrow(/already aborted/);
  });

  it('finish fails while an index is open and when no archive was written', async () => {
    const s = store();
    const group = { type: 'host', id: 'finish-rules' } as const;
    const writer = s.beginSnapshot(group);
    const index = writer.createDynamicIndex('open.didx');
    await expectCode(() => writer.finish(), 'INVALID_ARGUMENT', /index open\.didx still open/);
    expect(existsSync(join(writer.dir, MANIFEST_NAME))).toBe(false);
    writer.closeIndex(index);
    writer.finish();
    expect(s.snapshotInfo(writer.ref)).toMatchObject({ finished: true, files: ['open.didx'] });
    expect(s.openSnapshot(writer.ref).openIndex('open.didx').size).toBe(0);

    const empty = s.beginSnapshot(group);
    await expectCode(() => empty.finish(), 'INVALID_ARGUMENT', /no archive was written/);
    expect(existsSync(join(empty.dir, MANIFEST_NAME))).toBe(false);
    empty.abort();
    expect(s.listSnapshots(group).map((x) => x.time)).toEqual([writer.ref.time]);
  });

  it('gives two snapshots begun in the same second distinct, increasing times; refuses an explicit time not after the newest', async () => {
    const s = store();
    const group = { type: 'host', id: 'same-second' } as const;
    const before = Math.floor(Date.now() / 1000);
    const a = s.beginSnapshot(group);
    const b = s.beginSnapshot(group);
    expect(a.ref.time).toBeGreaterThanOrEqual(before);
    expect(b.ref.time).toBeGreaterThan(a.ref.time);
    expect(existsSync(a.dir) && existsSync(b.dir)).toBe(true);
    expect(a.dir).not.toBe(b.dir);

    for (const time of [b.ref.time, a.ref.time, a.ref.time - 3600]) {
      await expectCode(() => s.beginSnapshot(group, { time }), 'ALREADY_EXISTS', /is not after the group's newest/);
    }
    expect(s.listSnapshots(group).length).toBe(2);
    const later = s.beginSnapshot(group, { time: b.ref.time + 100 });
    expect(later.ref.time).toBe(b.ref.time + 100);
    expect(readdirSync(s.groupDir(group)).sort()).toEqual(
      [a.dir, b.dir, later.dir]
        .map((d) => d.slice(-20))
        .concat('owner')
        .sort(),
    );
    const next = s.beginSnapshot(group);
    expect(next.ref.time).toBe(b.ref.time + 101);
    for (const w of [a, b, later, next]) w.abort();
  });

  it('writes the owner file once, when the group is created', () => {
    const s = store();
    const group = { type: 'host', id: 'owned' } as const;
    const ownerPath = join(s.groupDir(group), 'owner');
    s.beginSnapshot(group, { owner: 'alice@pbs' }).abort();
    expect(readFileSync(ownerPath, 'utf8')).toBe('alice@pbs\n');
    s.beginSnapshot(group, { owner: 'bob@pbs' }).abort();
    s.beginSnapshot(group).abort();
    expect(readFileSync(ownerPath, 'utf8')).toBe('alice@pbs\n');
    expect(s.readOwner(group)).toBe('alice@pbs');

    const other = { type: 'host', id: 'default-owner' } as const;
    s.beginSnapshot(other).abort();
    expect(readFileSync(join(s.groupDir(other), 'owner'), 'utf8')).toBe(`${userInfo().username}@local\n`);
    expect(s.readOwner({ type: 'host', id: 'no-such-group' })).toBeUndefined();
  });

  it('reads and writes group notes', async () => {
    const s = store();
    const group = { type: 'host', id: 'noted' } as const;
    await expectCode(() => s.writeGroupNotes(group, 'x'), 'NOT_FOUND', /group host\/noted does not exist/);
    s.beginSnapshot(group).abort();
    expect(s.readGroupNotes(group)).toBe('');
    s.writeGroupNotes(group, 'Laptop documents\nweekly, keep 4');
    expect(s.readGroupNotes(group)).toBe('Laptop documents\nweekly, keep 4');
    expect(readFileSync(join(s.groupDir(group), 'notes'), 'utf8')).toBe('Laptop documents\nweekly, keep 4');
    s.writeGroupNotes(group, 'ünïcödé');
    expect(s.readGroupNotes(group)).toBe('ünïcödé');
    expect(readdirSync(s.groupDir(group)).sort()).toEqual(['notes', 'owner']);
  });

  it('protects and unprotects snapshots', async () => {
    const s = store();
    const group = { type: 'host', id: 'protected' } as const;
    const { ref } = writeSnapshot(s, group, [textBytes(500, 5)]);
    expect(s.isProtected(ref)).toBe(false);
    s.setProtected(ref, true);
    expect(s.isProtected(ref)).toBe(true);
    expect(statSync(join(s.snapshotDir(ref), '.protected')).size).toBe(0);
    expect(s.snapshotInfo(ref)).toMatchObject({
      protected: true,
      finished: true,
      files: ['data.didx', 'meta.conf.blob'],
    });
    s.setProtected(ref, true);
    s.setProtected(ref, false);
    expect(s.isProtected(ref)).toBe(false);
    expect(existsSync(join(s.snapshotDir(ref), '.protected'))).toBe(false);
    expect(s.snapshotInfo(ref).protected).toBe(false);
    s.setProtected(ref, false);
    await expectCode(() => s.setProtected({ ...ref, time: ref.time + 1 }, true), 'NOT_FOUND');
    expect(existsSync(join(s.groupDir(group), formatBackupTime(ref.time + 1)))).toBe(false);
  });

  it('removes a group only when it has no snapshots', () => {
    const s = store();
    const kept = { type: 'ct', id: 'kept' } as const;
    writeSnapshot(s, kept, [textBytes(700, 7)]);
    expect(s.removeGroupIfEmpty(kept)).toBe(false);
    expect(s.listGroups().some((g) => g.id === 'kept')).toBe(true);

    const gone = { type: 'ct', id: 'gone' } as const;
    const unfinished = s.beginSnapshot(gone);
    s.writeGroupNotes(gone, 'notes');
    expect(s.removeGroupIfEmpty(gone)).toBe(false); // an unfinished snapshot counts
    expect(existsSync(join(s.groupDir(gone), 'owner'))).toBe(true);
    unfinished.abort();
    expect(s.removeGroupIfEmpty(gone)).toBe(true);
    expect(existsSync(s.groupDir(gone))).toBe(false);
    expect(s.listGroups().some((g) => g.id === 'gone')).toBe(false);
    expect(s.removeGroupIfEmpty(gone)).toBe(false);
  });

  it('checks every archive against the manifest when a snapshot is opened for reading', async () => {
    const s = store();
    const group = { type: 'host', id: 'tamper' } as const;
    const pieces = [pseudoRandomBytes(30_000, 'tamper1'), pseudoRandomBytes(20_000, 'tamper2')];

    // An index replaced by a different, internally valid one.
    const one = writeSnapshot(s, group, pieces);
    const didxPath = join(s.snapshotDir(one.ref), 'data.didx');
    const replacement = new DynamicIndexWriter(didxPath);
    replacement.add(50_000, sha256(Buffer.from('something else')));
    replacement.close();
    await expectCode(
      () => s.openSnapshot(one.ref).openIndex('data.didx'),
      'CORRUPT',
      /data\.didx: index checksum differs from the manifest's/,
    );
    // The same index with one changed byte in an entry fails its own checksum.
    const flipped = readFileSync(didxPath);
    flipped[4096 + 20]! ^= 1;
    writeFileSync(didxPath, flipped);
    await expectCode(() => s.openSnapshot(one.ref).openIndex('data.didx'), 'CORRUPT', /index checksum mismatch/);

    // A manifest changed to a different csum or size.
    const two = writeSnapshot(s, group, pieces);
    const manifestPath = join(s.snapshotDir(two.ref), MANIFEST_NAME);
    const original = readFileSync(manifestPath);
    expect(
      Buffer.concat([...s.openSnapshot(two.ref).readRange(s.openSnapshot(two.ref).openIndex('data.didx'))]).equals(
        two.data,
      ),
    ).toBe(true);
    const m = decodeManifest(original, 'm');
    writeFileSync(
      manifestPath,
      encodeManifest({
        ...m,
        files: m.files.map((f) => (f.filename === 'data.didx' ? { ...f, csum: 'ee'.repeat(32) } : f)),
      }),
    );
    await expectCode(() => s.openSnapshot(two.ref).openIndex('data.didx'), 'CORRUPT', /checksum differs/);
    writeFileSync(
      manifestPath,
      encodeManifest({
        ...m,
        files: m.files.map((f) => (f.filename === 'data.didx' ? { ...f, size: f.size + 1 } : f)),
      }),
    );
    await expectCode(
      () => s.openSnapshot(two.ref).openIndex('data.didx'),
      'CORRUPT',
      /archive size 50000 differs from the manifest's 50001/,
    );
    writeFileSync(manifestPath, encodeManifest({ ...m, 'backup-time': m['backup-time'] + 1 }));
    await expectCode(() => s.openSnapshot(two.ref), 'CORRUPT', /manifest names a different snapshot/);
    const corrupt = Buffer.from(original);
    corrupt[corrupt.length - 1]! ^= 0xff;
    writeFileSync(manifestPath, corrupt);
    await expectCode(
      () => s.readManifest(two.ref),
      'CORRUPT',
      new RegExp(`${manifestPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: CRC mismatch`),
    );
    writeFileSync(manifestPath, original);
    expect(s.openSnapshot(two.ref).openIndex('data.didx').size).toBe(50_000);

    // A blob replaced by another valid blob.
    writeFileSync(
      join(s.snapshotDir(two.ref), 'meta.conf.blob'),
      encodeBlob(Buffer.from('other config\n'), { compress: true }),
    );
    await expectCode(
      () => s.openSnapshot(two.ref).readBlob('meta.conf.blob'),
      'CORRUPT',
      /blob differs from the manifest/,
    );
  });
});

describe('listing', () => {
  const tmp = useTempDirs();

  it('ignores entries that are not groups or snapshots', async () => {
    // A store made by hand (config and an empty .chunks): listing needs no chunk directories.
    const root = tmp();
    writeConfig(root, newConfig({ chunkSize: CHUNK, syncLevel: 'none' }));
    mkdirSync(join(root, '.chunks'));
    const store = Datastore.open(root);
    const good = { type: 'vm', id: 'good' } as const;
    const writer = store.beginSnapshot(good, { time: 1704067200 });
    writer.addBlob('qemu-server.conf.blob', Buffer.from('cores: 2\n'));
    writer.finish();

    writeFileSync(join(root, 'host'), 'a file named like a type');
    for (const d of [
      'vm/.hidden',
      'vm/-dash',
      'vm/bad id',
      'vm/x/not-a-time',
      'vm/good/2024-02-30T00:00:00Z',
      'vm/good/2024-01-01T00:00:00',
      'ns/a',
      'other/thing',
      'ct',
    ]) {
      mkdirSync(join(root, d), { recursive: true });
    }
    writeFileSync(join(root, 'vm/good/2025-01-01T00:00:00Z'), 'a file named like a time');
    writeFileSync(join(root, 'vm/stray-file'), '');
    const snap = join(root, 'vm/good/2024-01-01T00:00:00Z');
    for (const f of ['root.pxar.tmp_didx', 'meta.blob.tmp_Ab3dEf', 'readme.txt', 'client.log.blob', '.protected'])
      writeFileSync(join(snap, f), '');

    const groups = store.listGroups();
    expect(groups.map((g) => g.path)).toEqual(['vm/good', 'vm/x']);
    expect(groups[0]).toMatchObject({ snapshotCount: 1, lastBackup: 1704067200 });
    expect(groups[1]).toMatchObject({ snapshotCount: 0, lastBackup: undefined, owner: undefined });
    expect(store.listSnapshots(good)).toEqual([
      {
        type: 'vm',
        id: 'good',
        time: 1704067200,
        path: 'vm/good/2024-01-01T00:00:00Z',
        finished: true,
        protected: true,
        files: ['client.log.blob', 'qemu-server.conf.blob'],
      },
    ]);
    expect(store.listSnapshots({ type: 'host', id: 'anything' })).toEqual([]);
    expect(store.listSnapshots({ type: 'ct', id: 'missing' })).toEqual([]);
    await expectCode(() => store.listSnapshots({ type: 'vm', id: '..' }), 'INVALID_NAME');

    // The same junk under host/ once it is a directory.
    rmSync(join(root, 'host'));
    for (const d of ['host/.hidden', 'host/x/not-a-time', 'host/x/.2024-01-01T00:00:00Z'])
      mkdirSync(join(root, d), { recursive: true });
    expect(store.listGroups().map((g) => `${g.path}:${g.snapshotCount}`)).toEqual(['host/x:0', 'vm/good:1', 'vm/x:0']);
  });
});
