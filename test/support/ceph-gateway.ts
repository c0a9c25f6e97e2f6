// The Ceph gateway as vitest files use it (test/support/ceph.ts starts it; the bench uses that without vitest).
import { afterAll, beforeAll } from 'vitest';
import { startCephGateway, type CephGateway } from './ceph.js';

/**
 * One gateway for a test file (~15 s to start), started before its tests and stopped after them. The object is
 * filled in when the gateway is up, so a file can hold it from the start.
 */
export function useCephGateway(): CephGateway {
  const gw = {} as CephGateway;
  beforeAll(async () => {
    Object.assign(gw, await startCephGateway());
  }, 180_000);
  afterAll(async () => {
    await gw.stop?.();
  }, 60_000);
  return gw;
}
