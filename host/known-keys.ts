import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonFileAtomic } from '../core/fs/json-file.js';

const KnownKeysFile = z.strictObject({
  version: z.literal(1),
  paths: z.array(z.string().min(1).max(4096)).max(1000),
});

/**
 * The key files the app knows besides the default one (`known-keys.json` in the config folder): paths only,
 * never a key. Written atomically (0600); a damaged file is CORRUPT naming it, never reset behind the user's back.
 */
export class KnownKeys {
  readonly file: string;

  constructor(configDir: string) {
    this.file = join(configDir, 'known-keys.json');
  }

  list(): string[] {
    return readJsonFile(this.file, KnownKeysFile, 'the list of known key files')?.paths ?? [];
  }

  add(path: string): void {
    const paths = this.list();
    if (!paths.includes(path)) this.write([...paths, path]);
  }

  remove(path: string): void {
    const paths = this.list();
    if (paths.includes(path)) this.write(paths.filter((p) => p !== path));
  }

  private write(paths: string[]): void {
    writeJsonFileAtomic(this.file, { version: 1, paths } satisfies z.infer<typeof KnownKeysFile>);
  }
}
