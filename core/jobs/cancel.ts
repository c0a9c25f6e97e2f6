import { CairnError } from '../errors.js';

export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new CairnError('CANCELLED', `${what} cancelled`);
}
