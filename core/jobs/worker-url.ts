import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The URL of a worker script next to the calling module. Workers run JavaScript, so when the caller is
 * loaded from its TypeScript source (under the test runner) the compiled script under dist/ is used.
 */
export function workerScriptUrl(callerUrl: string, script: string): URL {
  const caller = fileURLToPath(callerUrl);
  if (caller.endsWith('.js')) return new URL(script, callerUrl);
  const compiled = fileURLToPath(new URL(script, callerUrl)).replace(/([\\/])core([\\/])/, '$1dist$1core$2');
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run npm run build`);
  return pathToFileURL(compiled);
}
