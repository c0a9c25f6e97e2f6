import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonFileAtomic } from '../core/fs/json-file.js';

export const KNOWN_KEYS_FILE = 'known-keys.json';

const KnownKeysSchema = z.object({ version: z.literal(1), paths: z.array(z.string().min(1)).max(1000) });

/**
 * The key files the user added to the app, by path (`keys/known-keys.json` in the config folder). Only paths:
 * the key files themselves stay where they are, and the default key is known without being listed.
 */
export class KnownKeyFiles {
  readonly file: string;

  constructor(keysDir: string) {
    this.file = join(keysDir, KNOWN_KEYS_FILE);
  }

  /** A damaged list is CORRUPT (naming the file), never silently emptied: it is the user's list of keys. */
  list(): string[] {
    return readJsonFile(this.file, KnownKeysSchema, 'a list of key files')?.paths ?? [];
  }

  add(path: string): void {
    const paths = this.list();
    if (!paths.includes(path)) this.save([...paths, path]);
  }

  private save(paths: string[]): void {
    writeJsonFileAtomic(this.file, { version: 1, paths });
  }
}
