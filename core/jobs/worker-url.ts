import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The folder that holds core/, host/ and dist/: this module is core/jobs/worker-url.ts under it. */
const SOURCE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The URL of a worker script next to the calling module (core's chunk writers and restore workers, the host's
 * job and query threads). Workers run JavaScript, so when the caller is loaded from its TypeScript source
 * (under the test runner) the compiled script at the same place under dist/ is used.
 */
export function workerScriptUrl(callerUrl: string, script: string): URL {
  const url = new URL(script, callerUrl);
  if (fileURLToPath(callerUrl).endsWith('.js')) return url;
  const inSource = relative(SOURCE_ROOT, fileURLToPath(url));
  if (inSource.startsWith('..') || isAbsolute(inSource))
    throw new Error(`${fileURLToPath(url)} is outside ${SOURCE_ROOT}`);
  const compiled = join(SOURCE_ROOT, 'dist', inSource);
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run npm run build`);
  return pathToFileURL(compiled);
}
