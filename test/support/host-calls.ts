import { expect } from 'vitest';
import type { Result } from '../../contract/errors.js';
import type { HostService } from '../../host/host-service.js';

/** Calls an action as a renderer would and returns its value; a failure throws with its code and message. */
export async function call<T>(service: HostService, action: string, payload: unknown): Promise<T> {
  const r = (await service.handle(action, payload)) as Result<T>;
  if (!r.ok) throw new Error(`${action}: ${r.error.code}: ${r.error.message}`);
  return r.value;
}

/** Calls an action that must fail, and returns its error. */
export async function failure(service: HostService, action: string, payload: unknown) {
  const r = await service.handle(action, payload);
  expect(r.ok, `${action} should fail`).toBe(false);
  return (r as Extract<Result<unknown>, { ok: false }>).error;
}
