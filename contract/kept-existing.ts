import { plural } from './format.js';

/**
 * The existing files a restore left alone, in words, one copy for the app, the CLI and a restore from a remote:
 * those there as backed up (nothing of them is missing) apart from those that differ, which `hint(n)` says how to
 * replace ("; 10 files were there as backed up; kept 3 existing files that differ …"). `same` is unknown for a
 * restore an older version recorded: then every kept file is only "kept".
 */
export function keptExisting(conflicts: number, same: number | undefined, hint: (differ: number) => string): string {
  if (conflicts === 0) return '';
  if (same === undefined) return `; kept ${plural(conflicts, 'existing file')}${hint(conflicts)}`;
  const differ = conflicts - same;
  const were = same === 1 ? 'was' : 'were';
  return (
    (same > 0 ? `; ${plural(same, 'file')} ${were} there already as backed up` : '') +
    (differ > 0
      ? `; kept ${plural(differ, 'existing file')} that ${differ === 1 ? 'differs' : 'differ'} in size or date${hint(differ)}`
      : '')
  );
}

/** What an overwrite replaced: "; 2 files there that differed were replaced", or nothing. */
export function replacedExisting(replaced: number | undefined): string {
  if (!replaced) return '';
  return `; ${plural(replaced, 'file')} there that differed ${replaced === 1 ? 'was' : 'were'} replaced`;
}
