/**
 * Error codes the CLI and the app act on. A CairnError's message is one line a user can read: it names the
 * file or object and what is wrong with it.
 */
export type CairnErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_NAME'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'NOT_A_DATASTORE'
  | 'CORRUPT'
  | 'PATH_NOT_ALLOWED'
  | 'LOCKED'
  | 'PROTECTED'
  | 'CANCELLED'
  | 'IO';

export class CairnError extends Error {
  readonly code: CairnErrorCode;

  constructor(code: CairnErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CairnError';
    this.code = code;
  }
}

export function isCairnError(err: unknown, code?: CairnErrorCode): err is CairnError {
  return err instanceof CairnError && (code === undefined || err.code === code);
}

/** The errno code of a Node fs error, if any. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** Wraps an fs error into a CairnError whose message names what we were doing and the path. */
export function ioError(action: string, path: string, err: unknown): CairnError {
  const code = errnoCode(err);
  const detail = code === 'ENOSPC' ? 'no space left on device' : code === 'EACCES' || code === 'EPERM'
    ? 'permission denied' : (err instanceof Error ? err.message : String(err));
  return new CairnError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `cannot ${action} ${path}: ${detail}`, { cause: err });
}
