import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BACKUP_TYPES } from '../core/backup/backup-names.js';
import { GC_STATUS_FILE } from '../core/gc/gc-status.js';

/** How often an open store is looked at for changes made by other processes (the CLI, a second app). */
export const STORE_POLL_MS = 2_000;

/**
 * Notices what other processes change in the open store: a backup finished, a snapshot forgotten or pruned, a GC
 * run. It compares a cheap fingerprint, a few stats per group: the group folder (snapshots added or removed), its
 * newest snapshot folder (the manifest that finishes a backup) and `.gc-status`. Changes made by this host are
 * announced by their handlers already; a poll that finds the same fingerprint says nothing.
 */
export class StoreWatcher {
  private readonly fingerprints = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly onChange: (store: string) => void,
    private readonly intervalMs = STORE_POLL_MS,
  ) {}

  /** Watches one store (the one the user has open); a second call switches to another. */
  watch(store: string): void {
    this.fingerprints.clear();
    this.fingerprints.set(store, fingerprint(store));
    if (!this.timer) {
      this.timer = setInterval(() => this.poll(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** After this host announced a change itself: take the new state as seen, so the poll does not repeat it. */
  settle(store: string): void {
    if (this.fingerprints.has(store)) this.fingerprints.set(store, fingerprint(store));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.fingerprints.clear();
  }

  private poll(): void {
    for (const [store, before] of this.fingerprints) {
      const now = fingerprint(store);
      if (now === before) continue;
      this.fingerprints.set(store, now);
      this.onChange(store);
    }
  }
}

function mtime(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

function subdirs(path: string): string[] {
  try {
    return readdirSync(path, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name);
  } catch {
    return [];
  }
}

export function fingerprint(store: string): string {
  const parts = [String(mtime(join(store, GC_STATUS_FILE)))];
  for (const type of BACKUP_TYPES) {
    const typeDir = join(store, type);
    parts.push(`${type}:${mtime(typeDir)}`);
    for (const id of subdirs(typeDir)) {
      const groupDir = join(typeDir, id);
      const newest = subdirs(groupDir).sort().at(-1);
      parts.push(`${id}:${mtime(groupDir)}:${newest ?? ''}:${newest ? mtime(join(groupDir, newest)) : 0}`);
    }
  }
  return parts.join('|');
}
