import { API_METHODS, type ApiMethod } from '../../../contract/actions.js';
import { ApiError, type CairnClient } from './client.js';

/**
 * The client with one behaviour added: an action that answers KEY_REQUIRED (an encrypted snapshot, an encrypted
 * backup, whose key is locked) asks the user to unlock that key, then runs again; dismissed, the error stands.
 * Calls waiting for the same key share one question. The key actions themselves are never retried.
 */
export function unlockingClient(client: CairnClient, ask: (fingerprint: string) => Promise<boolean>): CairnClient {
  const asking = new Map<string, Promise<boolean>>();
  const askOnce = (fingerprint: string): Promise<boolean> => {
    let pending = asking.get(fingerprint);
    if (!pending) {
      pending = ask(fingerprint).finally(() => asking.delete(fingerprint));
      asking.set(fingerprint, pending);
    }
    return pending;
  };
  const wrapped: Record<string, unknown> = { ...client };
  for (const method of Object.keys(API_METHODS) as ApiMethod[]) {
    if (API_METHODS[method].startsWith('keys.')) continue;
    const call = client[method] as (req: unknown) => Promise<unknown>;
    wrapped[method] = async (req: unknown) => {
      for (;;) {
        try {
          return await call(req);
        } catch (err) {
          const fingerprint = err instanceof ApiError && err.code === 'KEY_REQUIRED' ? err.keyFingerprint : undefined;
          if (!fingerprint || !(await askOnce(fingerprint))) throw err;
        }
      }
    };
  }
  return wrapped as unknown as CairnClient;
}
