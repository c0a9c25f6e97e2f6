import { lstatSync, type BigIntStats } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExcludeRules } from '../../../core/archive/excludes.js';
import { scanSource, type SourceNode } from '../../../core/archive/source-scan.js';
import { ListingStats, ScannedFile } from '../../../core/archive/scanned-entry.js';
import { compactStat, hardlinkKey, sameInode, unsigned64 } from '../../../core/archive/source-stat.js';
import { MemoryLogger } from '../../../core/log.js';
import { buildRichTree } from '../../support/rich-tree.js';
import { useTempDirs } from '../../support/temp.js';

const temp = useTempDirs();

/** Every node of a scanned tree, with its path relative to the root. */
function nodesOf(root: SourceNode): SourceNode[] {
  const all: SourceNode[] = [];
  const visit = (node: SourceNode): void => {
    for (const child of node.children ?? []) {
      all.push(child);
      visit(child);
    }
  };
  visit(root);
  return all;
}

describe('source scan', () => {
  it("gives each entry its lstat's fields exactly (inode and device as BigInts, times to the nanosecond), found at its path", async () => {
    const tree = buildRichTree(temp('scan'));
    const { root } = await scanSource(tree.root, { excludes: ExcludeRules.fromPatterns([]), log: new MemoryLogger() });
    const nodes = nodesOf(root);
    expect(nodes.length).toBeGreaterThan(20);
    for (const node of nodes) {
      const st = lstatSync(node.path, { bigint: true });
      const { mode, uid, gid, size, nlink, mtimeNs, ctimeNs, ino, dev } = node.stat;
      // The path labels a failure; the fields are compared.
      expect({ path: node.rel, mode, uid, gid, size, nlink, mtimeNs, ctimeNs, ino, dev }).toEqual({
        path: node.rel,
        mode: Number(st.mode),
        uid: Number(st.uid),
        gid: Number(st.gid),
        size: Number(st.size),
        nlink: Number(st.nlink),
        mtimeNs: st.mtimeNs,
        ctimeNs: st.ctimeNs,
        ino: st.ino,
        dev: st.dev,
      });
    }
  });

  it('counts the same totals when it keeps no file nodes (counting, the exclude preview) as when it keeps the tree', async () => {
    const tree = buildRichTree(temp('count'));
    const options = () => ({
      excludes: ExcludeRules.fromPatterns(['hard-too/', 'links/dangling']),
      log: new MemoryLogger(),
    });
    const kept = await scanSource(tree.root, options(), true);
    const counted = await scanSource(tree.root, options(), false);
    expect(counted.totals).toEqual(kept.totals);
    expect(kept.totals.excluded).toBe(2);
    expect(kept.totals.files).toBeGreaterThan(10);
    expect(kept.totals.symlinks).toBeGreaterThan(0);
    // Hardlinked content counts once: the bytes are those of the distinct inodes kept.
    const seen = new Set<string>();
    let bytes = 0;
    for (const node of nodesOf(kept.root)) {
      if (node.kind !== 'file') continue;
      const key = `${node.stat.dev}:${node.stat.ino}`;
      if (!seen.has(key)) bytes += node.stat.size;
      seen.add(key);
    }
    expect(kept.totals.bytes).toBe(bytes);
    expect(seen.size).toBeLessThan(kept.totals.files);
  });

  it('reads an inode or device number from 2^63 up, which Node hands out negative, as the unsigned number it is', () => {
    const top = 2n ** 64n;
    // What BigIntStats holds for the inodes 2^64 - 2 and 2^63 (an NFS mount's), and for an ordinary one.
    const st = (ino: bigint, dev: bigint, nlink = 1n) => ({ ino, dev, nlink }) as unknown as BigIntStats;
    expect(unsigned64(-2n)).toBe(top - 2n);
    expect(unsigned64(-(2n ** 63n))).toBe(2n ** 63n);
    expect(unsigned64(1234n)).toBe(1234n);
    expect(sameInode(st(-2n, -5n), { ino: top - 2n, dev: top - 5n })).toBe(true);
    expect(sameInode(st(-2n, 7n), { ino: top - 3n, dev: 7n })).toBe(false);
    expect(hardlinkKey(st(-2n, 7n, 2n))).toBe(`7:${top - 2n}`);
    expect(hardlinkKey(st(-2n, 7n, 1n))).toBeUndefined();
    const stat = compactStat({
      ...st(-(2n ** 63n), -1n),
      mode: 0o100644n,
      uid: 0n,
      gid: 0n,
      size: 1n,
      mtimeNs: 1n,
      ctimeNs: 2n,
    } as unknown as BigIntStats);
    expect([stat.ino, stat.dev]).toEqual([2n ** 63n, top - 1n]);
  });

  it("keeps each entry's stat in its folder's columns exactly: unsigned inodes, times before 1970, huge link counts", () => {
    const top = 2n ** 64n;
    const stats = new ListingStats(3);
    const lstat = (fields: Record<string, bigint>) => fields as unknown as BigIntStats;
    const common = { mode: 0o100600n, uid: 4_000_000_000n, gid: 65534n, size: 2n ** 40n + 3n };
    stats.set(0, lstat({ ...common, nlink: 2n ** 33n, mtimeNs: -1_500_000_001n, ctimeNs: 9n, ino: -2n, dev: -1n }));
    stats.set(2, lstat({ ...common, mode: 0o120777n, nlink: 1n, mtimeNs: 2n ** 62n, ctimeNs: 0n, ino: 5n, dev: 7n }));
    const folder = { path: '/src', rel: 'src' } as SourceNode;
    const [first, last] = [new ScannedFile('a', folder, stats, 0), new ScannedFile('\u00e9', folder, stats, 2)];
    const fields = (f: ScannedFile) => [f.mode, f.uid, f.gid, f.size, f.nlink, f.mtimeNs, f.ctimeNs, f.ino, f.dev];
    expect(fields(first)).toEqual([
      0o100600,
      4_000_000_000,
      65534,
      2 ** 40 + 3,
      0xffffffff,
      -1_500_000_001n,
      9n,
      top - 2n,
      top - 1n,
    ]);
    expect(fields(last)).toEqual([0o120777, 4_000_000_000, 65534, 2 ** 40 + 3, 1, 2n ** 62n, 0n, 5n, 7n]);
    expect([first.kind, last.kind, first.stat]).toEqual(['file', 'symlink', first]);
    // A name of any bytes: the path and the name are its bytes, the display path is decoded.
    expect([first.path, first.rel, last.name, last.path, last.rel]).toEqual([
      '/src/a',
      'src/a',
      Buffer.from([0xe9]),
      Buffer.from([...Buffer.from('/src/'), 0xe9]),
      'src/\ufffd',
    ]);
  });
});
