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
  /** A backup of one source into a group that records another (group-source.ts). */
  | 'SOURCE_MISMATCH'
  /** A key file's passphrase that does not decrypt it (key-file.ts). */
  | 'WRONG_PASSPHRASE'
  /** An encrypted snapshot read without its key: `KeyRequiredError` names the key's fingerprint. */
  | 'KEY_REQUIRED'
  /** A key that is not the one a snapshot was made with. */
  | 'WRONG_KEY'
  | 'IO';

export class CairnError extends Error {
  readonly code: CairnErrorCode;

  constructor(code: CairnErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CairnError';
    this.code = code;
  }
}

/** An encrypted snapshot was asked for without a key: the app asks for the key this fingerprint names. */
export class KeyRequiredError extends CairnError {
  constructor(
    readonly fingerprint: string | undefined,
    message: string,
  ) {
    super('KEY_REQUIRED', message);
  }
}

export function isCairnError(err: unknown, code?: CairnErrorCode): err is CairnError {
  return err instanceof CairnError && (code === undefined || err.code === code);
}

/** The errno code of a Node fs error, if any. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/** What the common errno codes mean, in words (the raw texts repeat the path and name the syscall). */
const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOENT: 'no such file or folder',
  EEXIST: 'something of that name exists already',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  ENOTEMPTY: 'the folder is not empty',
  ENAMETOOLONG: 'the name or the path is too long for the filesystem',
  EROFS: 'the filesystem is read-only',
  ELOOP: 'too many symlinks (or a symlink where none may be)',
  EBUSY: 'it is busy',
  EIO: 'input/output error (the disk may be failing)',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EXDEV: 'it is on another filesystem',
  EINVAL: 'the filesystem does not allow it',
};

/** Wraps an fs error into a CairnError whose message names what we were doing and the path. */
export function ioError(action: string, path: string, err: unknown): CairnError {
  const code = errnoCode(err);
  return new CairnError(
    code === 'ENOENT' ? 'NOT_FOUND' : 'IO',
    `cannot ${action} ${shortenPath(path)}: ${errorWords(err)}`,
    {
      cause: err,
    },
  );
}

/** An fs error in words ("permission denied"), without the syscall and path of its raw text; else its message. */
export function errorWords(err: unknown): string {
  const code = errnoCode(err);
  return (code && ERRNO_WORDS[code]) ?? (err instanceof Error ? err.message : String(err));
}

/** A path for a one-line message: a very long one shows its start and its end. */
export function shortenPath(path: string): string {
  return path.length <= 300 ? path : `${path.slice(0, 120)}…${path.slice(-150)}`;
}
