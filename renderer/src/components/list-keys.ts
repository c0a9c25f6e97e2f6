const MOVES: Record<string, (from: number, last: number) => number> = {
  ArrowDown: (i) => i + 1,
  ArrowUp: (i) => i - 1,
  PageDown: (i) => i + 10,
  PageUp: (i) => i - 10,
  Home: () => 0,
  End: (_, last) => last,
};

/**
 * The row a key moves the selection to, from row `from` of `count` (kept inside the list), as in the tables and
 * lists of desktop apps; undefined for a key that does not move it.
 */
export function movedIndex(key: string, from: number, count: number): number | undefined {
  if (!Object.hasOwn(MOVES, key) || count === 0) return undefined;
  return Math.max(0, Math.min(count - 1, MOVES[key]!(from, count - 1)));
}
