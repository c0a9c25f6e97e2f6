import { join } from 'node:path';
import { cairnConfigDir } from '../plans/config-dir.js';

/** The key file used when none is named: <config folder>/keys/default.json (the CLI's and the app's alike). */
export function defaultKeyPath(): string {
  return join(cairnConfigDir(), 'keys', 'default.json');
}
