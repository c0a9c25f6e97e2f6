import { plural } from '../../contract/format.js';

/**
 * Exit code 3 (restic's) when entries that are there could not be backed up: the snapshot was made, and a script
 * or a timer must still see that it is not whole.
 */
export function leftOutExit(count: number, ctx: { warn(message: string): void }): number {
  if (count === 0) return 0;
  ctx.warn(
    `${plural(count, 'entry', 'entries')} could not be read and ${count === 1 ? 'is' : 'are'} not in the snapshot ` +
      '(named above); everything else was backed up',
  );
  return 3;
}
