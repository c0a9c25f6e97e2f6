import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ASSETS = resolve(import.meta.dirname, '..', '..', 'dist', 'renderer', 'assets');

/** The built renderer (npm run build): what the window loads at start, and what it loads only when asked. */
describe('the renderer bundle', () => {
  const files = readdirSync(ASSETS);
  const entry = files.filter((f) => /^index-.*\.js$/.test(f));

  it('loads under 500 kB of script at start', () => {
    expect(entry).toHaveLength(1);
    expect(statSync(join(ASSETS, entry[0]!)).size).toBeLessThan(500 * 1024);
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
