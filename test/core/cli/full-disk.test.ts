import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pseudoRandomBytes } from '../../support/data.js';
import { CLI } from '../../support/processes.js';
import { put } from '../../support/tree.js';
import { useTempDirs } from '../../support/temp.js';

/**
 * Runs a shell script in a mount namespace of its own, where it mounts a small tmpfs: a disk that really fills
 * up, private to the script and gone when it ends. As root `unshare --mount`; otherwise a user namespace too.
 */
function inOwnMountNamespace(
  script: string,
  env: NodeJS.ProcessEnv,
): { status: number | null; stdout: string; stderr: string } {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const r = spawnSync(
    'unshare',
    [...(asRoot ? [] : ['--user', '--map-root-user']), '--mount', '--propagation', 'private', 'bash', '-c', script],
    {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a full store disk', () => {
  const scratch = useTempDirs();

  it('forget, prune, delete-group and GC work on a disk filled to the last byte, and free its space', () => {
    const work = scratch('full-disk');
    const disk = join(work, 'disk');
    mkdirSync(disk);
    const sources = ['a', 'b', 'c'].map((id) => {
      const src = join(work, `src-${id}`);
      put(src, 'data.bin', pseudoRandomBytes(2 * 1024 * 1024, `full-${id}`));
      return src;
    });
    const script = `
      set -u
      mount -t tmpfs -o size=24m tmpfs "$DISK" || { echo "cannot mount a tmpfs"; exit 99; }
      cli() { "$NODE" "$CLI" "$@"; }
      S="$DISK/store"
      cli init "$S" --sync none >/dev/null || exit 98
      cli backup "$S" "$SRC_A" --id a >/dev/null || exit 97
      cli backup "$S" "$SRC_B" --id b >/dev/null || exit 97
      echo changed > "$SRC_B/more.txt"
      cli backup "$S" "$SRC_B" --id b >/dev/null || exit 97
      cli backup "$S" "$SRC_C" --id c >/dev/null || exit 97
      # Backed up long ago: GC may delete what the forgotten snapshots alone used.
      find "$S/.chunks" -type f -exec touch -d '2 days ago' {} +
      # Fill the disk to the last byte.
      dd if=/dev/zero of="$DISK/filler" bs=64k status=none 2>/dev/null
      while head -c 512 /dev/zero >> "$DISK/filler-small" 2>/dev/null; do :; done
      echo "free before: $(df --output=avail -B1 "$DISK" | tail -1)"
      if echo x > "$DISK/probe" 2>/dev/null; then echo "not full"; exit 96; fi
      step() { echo "@@ $1"; shift; "$@" 2>&1; echo "rc=$?"; }
      step forget cli forget "$S" "host/a/$(ls "$S/host/a" | grep Z)"
      step prune cli prune "$S" host/b --keep-last 1
      step delete-group cli delete-group "$S" host/c
      step gc cli gc "$S"
      echo "free after: $(df --output=avail -B1 "$DISK" | tail -1)"
      step backup cli backup "$S" "$SRC_A" --id a
    `;
    const r = inOwnMountNamespace(script, {
      DISK: disk,
      NODE: process.execPath,
      CLI,
      SRC_A: sources[0]!,
      SRC_B: sources[1]!,
      SRC_C: sources[2]!,
    });
    const out = r.stdout;
    expect(r.status, `${out}\n${r.stderr}`).toBe(0);
    const rc = (step: string): string | undefined => new RegExp(`@@ ${step}\\n[\\s\\S]*?rc=(\\d+)`).exec(out)?.[1];
    for (const step of ['forget', 'prune', 'delete-group', 'gc']) expect(rc(step), `${step}:\n${out}`).toBe('0');
    expect(out).toMatch(/the disk of .* is full: Cairn used the 1 MiB it keeps in reserve there to take its locks/);
    const free = (when: string): number => Number(new RegExp(`free ${when}:\\s*(\\d+)`).exec(out)?.[1]);
    expect(free('before')).toBe(0);
    expect(free('after')).toBeGreaterThan(4 * 1024 * 1024);
    // With the space back, backups work again (and GC made the reserve again: see its log).
    expect(rc('backup'), out).toBe('0');
  });
});
