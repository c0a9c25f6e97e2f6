import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The compiled worker script `name` in host/. Under the test runner this module is loaded from its TypeScript
 * source, so the script comes from dist/host/ (workers run JavaScript).
 */
export function hostWorkerUrl(name: string): URL {
  const url = new URL(`./${name}`, import.meta.url);
  if (import.meta.url.endsWith('.js')) return url;
  const compiled = fileURLToPath(url).replace(/([\\/])host([\\/])([^\\/]+)$/, '$1dist$1host$2$3');
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run npm run build`);
  return pathToFileURL(compiled);
}
