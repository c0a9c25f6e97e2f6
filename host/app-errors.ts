import type { AppErrorCode, AppErrorInfo } from '../contract/errors.js';
import { CairnError, KeyRequiredError, type CairnErrorCode } from '../core/errors.js';

const FROM_CORE: Record<CairnErrorCode, AppErrorCode> = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  INVALID_NAME: 'INVALID_NAME',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  NOT_A_DATASTORE: 'STORE_MISSING',
  CORRUPT: 'CORRUPT',
  PATH_NOT_ALLOWED: 'PATH_NOT_ALLOWED',
  LOCKED: 'STORE_LOCKED',
  PROTECTED: 'PROTECTED',
  CANCELLED: 'CANCELLED',
  SOURCE_MISMATCH: 'SOURCE_MISMATCH',
  // The unlock prompt stays open and says so.
  WRONG_PASSPHRASE: 'WRONG_PASSPHRASE',
  KEY_REQUIRED: 'KEY_REQUIRED',
  WRONG_KEY: 'WRONG_KEY',
  IO: 'IO',
};

/** An error a handler throws on purpose with an app-level code (STORE_MISSING, NOT_AVAILABLE, …). */
export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    /** KEY_REQUIRED: the key needed, kept when an error crosses from a worker thread. */
    readonly keyFingerprint?: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** Any thrown value as the typed error the renderer shows: core's codes mapped, the rest INTERNAL with its message. */
export function toAppError(err: unknown): AppErrorInfo {
  if (err instanceof AppError)
    return err.keyFingerprint === undefined
      ? { code: err.code, message: err.message }
      : { code: err.code, message: err.message, keyFingerprint: err.keyFingerprint };
  if (err instanceof KeyRequiredError && err.fingerprint)
    return { code: 'KEY_REQUIRED', message: err.message, keyFingerprint: err.fingerprint };
  if (err instanceof CairnError) return { code: FROM_CORE[err.code] ?? 'INTERNAL', message: err.message };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}
