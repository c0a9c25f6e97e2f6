import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../core/fs/atomic-write.js';
import { makeDirectories } from '../core/fs/make-directories.js';
import { readRegularText } from '../core/fs/regular-file.js';

const MAX_RECENT = 10;
export const RECENT_STORES_FILE = 'recent-stores.json';

/** A list of paths; entries that are not text are dropped, anything else is no list. */
const RecentList = z.array(z.unknown()).transform((list) => list.filter((v): v is string => typeof v === 'string'));

/** The stores the user opened lately, newest first, kept in the app's data folder. */
export class RecentStores {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, RECENT_STORES_FILE);
  }

  /** A missing, damaged or foreign file is an empty list: the list is a convenience, and the next save replaces it. */
  list(): string[] {
    try {
      const parsed = RecentList.safeParse(JSON.parse(readRegularText(this.file, 1024 * 1024)));
      return parsed.success ? parsed.data.slice(0, MAX_RECENT) : [];
    } catch {
      return [];
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
