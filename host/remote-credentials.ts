import type { RemoteCredentialsState } from '../contract/remotes.js';
import { credentialsSchema, type RemoteBook, type RemoteCredentials } from '../core/remote/remote-book.js';
import { AppError } from './app-errors.js';
import type { SecretStore } from './remembered-keys.js';

/**
 * Where the app keeps a remote's credentials: sealed by the secret store (the desktop app's OS keychain, through
 * Electron's safeStorage) in remote-credentials.sealed.json when it has one, else in remote-credentials.json (mode
 * 0600), where the CLI finds them too. Never both: storing in one place removes any copy in the other. Reading
 * follows the CLI's order (RemoteBook.credentials): CAIRN_S3_* in the environment, then those kept, then AWS_*.
 */
export class RemoteCredentialKeeper {
  constructor(
    private readonly book: RemoteBook,
    private readonly secrets?: SecretStore,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Whether new credentials are sealed by the OS keychain (else they go to the 0600 file). */
  sealing(): boolean {
    return this.secrets?.available() ?? false;
  }

  store(name: string, credentials: RemoteCredentials): void {
    if (this.sealing()) {
      const plain = Buffer.from(JSON.stringify(credentials), 'utf8');
      try {
        this.book.setSealedCredentials(name, this.secrets!.seal(plain));
      } finally {
        plain.fill(0);
      }
      this.book.setCredentials(name, undefined);
    } else {
      this.book.setCredentials(name, credentials);
      this.book.setSealedCredentials(name, undefined);
    }
  }

  state(name: string): RemoteCredentialsState {
    if (this.env.CAIRN_S3_ACCESS_KEY_ID && this.env.CAIRN_S3_SECRET_ACCESS_KEY) return 'environment';
    if (this.book.sealedCredentials(name)) return 'keychain';
    if (this.book.hasStoredCredentials(name)) return 'file';
    return this.env.AWS_ACCESS_KEY_ID && this.env.AWS_SECRET_ACCESS_KEY ? 'environment' : 'missing';
  }

  /** The credentials a request to the remote is signed with; none is an error that says what to do. */
  credentials(name: string): RemoteCredentials {
    const fromEnv = this.env.CAIRN_S3_ACCESS_KEY_ID && this.env.CAIRN_S3_SECRET_ACCESS_KEY;
    const sealed = fromEnv ? undefined : this.book.sealedCredentials(name);
    if (!sealed) return this.book.credentials(name, this.env);
    if (!this.sealing())
      throw new AppError(
        'NOT_AVAILABLE',
        `the credentials of the remote "${name}" are sealed by the OS keychain, which is not open now: enter them again (Remotes › Edit), or start the desktop app`,
      );
    return this.open(name, sealed);
  }

  private open(name: string, sealed: Buffer): RemoteCredentials {
    let plain: Buffer | undefined;
    try {
      plain = this.secrets!.open(sealed);
      return credentialsSchema.parse(JSON.parse(plain.toString('utf8')));
    } catch {
      throw new AppError(
        'INVALID_ARGUMENT',
        `the credentials of the remote "${name}" were sealed by another user or keychain: enter them again (Remotes › Edit)`,
      );
    } finally {
      plain?.fill(0);
    }
  }
}
