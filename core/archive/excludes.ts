import ignore, { type Ignore } from 'ignore';
import { errnoCode } from '../errors.js';
import { readRegularText } from '../fs/regular-file.js';

export const IGNORE_FILE = '.cairnignore';

interface Rule {
  /** Directory the rules are relative to ('' for the backup root). */
  base: string;
  matcher: Ignore;
}

function newMatcher(): Ignore {
  // Git's default: case-sensitive where the filesystem usually is.
  return ignore({ ignorecase: process.platform === 'win32' || process.platform === 'darwin' });
}

/**
 * Gitignore semantics for a backup: the job's patterns apply from the root, each `.cairnignore` to its own
 * folder and below, and a deeper file overrides a shallower one (so `!keep.log` in a subfolder re-includes).
 * An excluded folder is not entered, so nothing below it can be re-included, as in git.
 */
export class ExcludeRules {
  private constructor(private readonly rules: readonly Rule[]) {}

  static fromPatterns(patterns: readonly string[]): ExcludeRules {
    const clean = patterns.map((p) => p.trim()).filter((p) => p.length > 0);
    return new ExcludeRules(clean.length > 0 ? [{ base: '', matcher: newMatcher().add(clean) }] : []);
  }

  /**
   * The rules inside a folder: these plus the folder's `.cairnignore`, if it has one. `dirPath` is the
   * folder on disk, `dirRel` its path from the root ('' for the root).
   */
  enter(dirPath: string | Buffer, dirRel: string, onError?: (message: string) => void): ExcludeRules {
    let text: string;
    try {
      const file =
        typeof dirPath === 'string'
          ? `${dirPath}/${IGNORE_FILE}`
          : Buffer.concat([dirPath, Buffer.from(`/${IGNORE_FILE}`)]);
      text = readRegularText(file, 1024 * 1024, { followSymlink: true });
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        onError?.(`cannot read ${dirRel ? `${dirRel}/` : ''}${IGNORE_FILE}: ${(err as Error).message}`);
      return this;
    }
    return new ExcludeRules([...this.rules, { base: dirRel, matcher: newMatcher().add(text) }]);
  }

  /**
   * These rules for a tree that lies at `rel` in the archive (one source of several, core/archive/multi-source.ts):
   * the job's patterns then apply from that source's folder, as they do from the root of a backup of one.
   */
  under(rel: string): ExcludeRules {
    return new ExcludeRules(this.rules.map((r) => ({ ...r, base: r.base === '' ? rel : `${rel}/${r.base}` })));
  }

  /** No pattern applies here: nothing can be excluded. */
  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** Whether the entry at `rel` (from the root, '/'-separated) is excluded. */
  isExcluded(rel: string, isDirectory: boolean): boolean {
    for (let i = this.rules.length - 1; i >= 0; i--) {
      const { base, matcher } = this.rules[i]!;
      if (base !== '' && !rel.startsWith(`${base}/`)) continue;
      const local = base === '' ? rel : rel.slice(base.length + 1);
      let result;
      try {
        result = matcher.test(isDirectory ? `${local}/` : local);
      } catch {
        continue; // a name the matcher cannot express (e.g. with a backslash on Windows) matches nothing
      }
      if (result.ignored) return true;
      if (result.unignored) return false;
    }
    return false;
  }
}
