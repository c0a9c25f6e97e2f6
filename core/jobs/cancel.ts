import { CairnError } from '../errors.js';

/** Throws when the job's signal fired: the abort reason if it is ours (e.g. a lost lock), else CANCELLED. */
export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (!signal?.aborted) return;
  if (signal.reason instanceof CairnError && signal.reason.code !== 'CANCELLED') throw signal.reason;
  throw new CairnError('CANCELLED', `${what} cancelled`);
}

/** One signal that fires when any of the given ones does. */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
}
