import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../core/fs/atomic-write.js';
import { makeDirectories } from '../core/fs/make-directories.js';

const MAX_RECENT = 10;

/** The stores the user opened lately, newest first, kept in the app's data folder. */
export class RecentStores {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'recent-stores.json');
  }

  list(): string[] {
    try {
      const value: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').slice(0, MAX_RECENT) : [];
    } catch {
      return []; // none yet, or unreadable: the list is a convenience
    }
  }

  add(path: string): string[] {
    return this.save([path, ...this.list().filter((p) => p !== path)]);
  }

  remove(path: string): string[] {
    return this.save(this.list().filter((p) => p !== path));
  }

  private save(paths: string[]): string[] {
    const list = paths.slice(0, MAX_RECENT);
    makeDirectories(join(this.file, '..'));
    writeFileAtomicSync(this.file, `${JSON.stringify(list, null, 2)}\n`);
    return list;
  }
}
