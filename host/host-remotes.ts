import type { RemoteCheckResult, RemoteCredentialsInput, RemoteInfo, RemoteSettings } from '../contract/remotes.js';
import { Bucket } from '../core/remote/bucket.js';
import { RemoteBook, type Remote, type RemoteCredentials } from '../core/remote/remote-book.js';
import { checkRemote } from '../core/remote/remote-check.js';
import { AppError } from './app-errors.js';
import type { SecretStore } from './remembered-keys.js';
import { RemoteCredentialKeeper } from './remote-credentials.js';

/** A remote and the credentials to sign its requests with, handed to a job's or a query's thread in this process. */
export interface RemoteAccess {
  remote: Remote;
  credentials: RemoteCredentials;
}

/** Interactive requests (a check, a listing) give up sooner than jobs do: the user is waiting. */
export const INTERACTIVE_ATTEMPTS = 2;

/**
 * The app's side of remotes (docs/REMOTES.md): remotes.json through RemoteBook, the credentials kept by
 * RemoteCredentialKeeper. Answers say where credentials are kept, never what they are.
 */
export class HostRemotes {
  private readonly book: RemoteBook;
  private readonly keeper: RemoteCredentialKeeper;

  constructor(
    configDir: string,
    secrets?: SecretStore,
    /** The names of the plans that push to a remote (such a remote is not removed). */
    private readonly plansUsing: (name: string) => string[] = () => [],
  ) {
    this.book = new RemoteBook(configDir);
    this.keeper = new RemoteCredentialKeeper(this.book, secrets);
  }

  list(): RemoteInfo[] {
    return this.book.list().map((r) => this.info(r));
  }

  add(name: string, settings: RemoteSettings, credentials: RemoteCredentialsInput): RemoteInfo {
    const remote = this.book.add({ name, ...settings });
    this.keeper.store(remote.name, { ...credentials });
    return this.info(remote);
  }

  update(name: string, settings: RemoteSettings, credentials?: RemoteCredentialsInput): RemoteInfo {
    const remote = this.book.replace({ name, ...settings });
    if (credentials) this.keeper.store(name, { ...credentials });
    return this.info(remote);
  }

  remove(name: string): void {
    this.book.get(name);
    const plans = this.plansUsing(name);
    if (plans.length > 0)
      throw new AppError(
        'INVALID_ARGUMENT',
        `the plan${plans.length > 1 ? 's' : ''} ${plans.map((p) => `“${p}”`).join(', ')} push${plans.length > 1 ? '' : 'es'} to ${name}: change ${plans.length > 1 ? 'their' : 'its'} off-site copy first`,
      );
    this.book.remove(name);
  }

  /** The remote and its credentials, for a job or a query. */
  access(name: string): RemoteAccess {
    return { remote: this.book.get(name), credentials: this.keeper.credentials(name) };
  }

  /** Like access, but undefined when the remote or its credentials are not to be had (the job then says why). */
  tryAccess(name: string): RemoteAccess | undefined {
    try {
      return this.access(name);
    } catch {
      return undefined;
    }
  }

  /** Probes a saved remote, or a draft (with its credentials, or the ones kept for `name`). */
  async check(req: {
    name?: string;
    settings?: RemoteSettings;
    credentials?: RemoteCredentialsInput;
  }): Promise<RemoteCheckResult> {
    const access = this.draftAccess(req);
    const bucket = new Bucket(access.remote, access.credentials, { maxAttempts: INTERACTIVE_ATTEMPTS });
    try {
      const capabilities = await checkRemote(bucket);
      return { ok: capabilities.every((c) => c.ok), capabilities, requests: bucket.requests };
    } finally {
      bucket.close();
    }
  }

  private draftAccess(req: {
    name?: string;
    settings?: RemoteSettings;
    credentials?: RemoteCredentialsInput;
  }): RemoteAccess {
    if (!req.settings) return this.access(req.name!);
    const remote: Remote = RemoteBook.validate({ name: req.name ?? 'draft', ...req.settings });
    if (req.credentials) return { remote, credentials: { ...req.credentials } };
    if (req.name === undefined)
      throw new AppError('INVALID_ARGUMENT', 'enter the access key and the secret to check the remote');
    return { remote, credentials: this.keeper.credentials(req.name) };
  }

  private info(remote: Remote): RemoteInfo {
    const { name, endpoint, region, bucket, prefix, pathStyle } = remote;
    return { name, endpoint, region, bucket, prefix, pathStyle, credentials: this.keeper.state(name) };
  }
}
