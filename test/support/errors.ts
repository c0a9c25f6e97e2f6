import { expect } from 'vitest';
import { CairnError, type CairnErrorCode } from '../../core/errors.js';

/** Checks that `caught` is a CairnError with this code and a message matching `message`; returns it. */
function checkCairnError(caught: unknown, code: string, message?: RegExp): CairnError {
  expect(caught, `expected a CairnError ${code}`).toBeInstanceOf(CairnError);
  const err = caught as CairnError;
  expect(err.code, err.message).toBe(code);
  if (message) expect(err.message).toMatch(message);
  return err;
}

/** Calls `fn`, which must throw a CairnError with this code and a message matching `message`; returns it. */
export function expectCairnError(fn: () => unknown, code: CairnErrorCode, message?: RegExp): CairnError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  return checkCairnError(caught, code, message);
}

/** Awaits `run` (a promise, or a function that may return one) and checks it fails with a CairnError of this code. */
export async function expectCode(
  run: Promise<unknown> | (() => unknown),
  code: string,
  pattern?: RegExp,
): Promise<CairnError> {
  let caught: unknown;
  try {
    await (typeof run === 'function' ? run() : run);
  } catch (err) {
    caught = err;
  }
  return checkCairnError(caught, code, pattern);
}
