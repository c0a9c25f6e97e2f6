import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const PackageJson = z.looseObject({ version: z.string().min(1) });

/**
 * The app's version, from the package.json in its folder (read with readFileSync, which Electron's asar
 * archive supports). A file that is not JSON or names no version is an error naming it.
 */
export function appVersion(root: string): string {
  const path = join(root, 'package.json');
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the app's version from ${path}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = PackageJson.safeParse(value);
  if (!parsed.success) throw new Error(`cannot read the app's version from ${path}: it names no version`);
  return parsed.data.version;
}
