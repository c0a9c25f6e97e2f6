import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ASSETS = resolve(import.meta.dirname, '..', '..', 'dist', 'renderer', 'assets');

/** The built renderer (npm run build): what the window loads at start, and what it loads only when asked. */
describe('the renderer bundle', () => {
  const files = readdirSync(ASSETS);
  const entry = files.filter((f) => /^index-.*\.js$/.test(f));

  /** The entry and every chunk it imports statically (the bundler splits out code it shares with lazy chunks). */
  function loadedAtStart(file: string, seen = new Set<string>()): Set<string> {
    if (seen.has(file)) return seen;
    seen.add(file);
    const code = readFileSync(join(ASSETS, file), 'utf8');
    for (const m of code.matchAll(/(?:^|[;}])import\s*(?:[^"';]*?from\s*)?"\.\/([^"]+\.js)"/g))
      loadedAtStart(m[1]!, seen);
    return seen;
  }

  it('loads under 500 kB of script at start', () => {
    expect(entry).toHaveLength(1);
    const start = [...loadedAtStart(entry[0]!)];
    const bytes = start.reduce((n, f) => n + statSync(join(ASSETS, f)).size, 0);
    expect(bytes, start.join(', ')).toBeLessThan(500 * 1024);
  });

  it('leaves the passphrase dictionaries out of it: the key wizard loads them', () => {
    const main = readFileSync(join(ASSETS, entry[0]!), 'utf8');
    // A word of zxcvbn's list of common passwords.
    expect(main).not.toContain('qwertyuiop');
    const dictionaries = files.filter(
      (f) => f.endsWith('.js') && readFileSync(join(ASSETS, f), 'utf8').includes('qwertyuiop'),
    );
    expect(dictionaries).toHaveLength(1);
    expect(dictionaries[0]).not.toBe(entry[0]);
  });
});
