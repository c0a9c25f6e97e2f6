import { join } from 'node:path';
import { z } from 'zod';
import { CairnError } from '../errors.js';
import { readJsonFile, writeJsonFileAtomic } from '../fs/json-file.js';
import { acquireExclusiveLock } from '../locks/process-lock.js';
import { withLock } from '../locks/with-lock.js';

/**
 * Off-site copies go to remotes: an S3 bucket (and a prefix in it) on any S3-compatible service. Their settings
 * live in `remotes.json` in the config folder, their credentials apart in `remote-credentials.json` (mode 0600),
 * so a listing or a support request never carries a secret.
 */
export const REMOTES_FILE = 'remotes.json';
export const CREDENTIALS_FILE = 'remote-credentials.json';
/**
 * Credentials the desktop app sealed with the OS keychain (Electron's safeStorage), remote name → sealed bytes
 * (base64), mode 0600. Only that app can open them: a CLI cannot, and says so (docs/REMOTES.md).
 */
export const SEALED_CREDENTIALS_FILE = 'remote-credentials.sealed.json';
const VERSION = 1;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const remoteSchema = z.strictObject({
  name: z.string().regex(NAME, 'a name of letters, digits, . _ - (up to 64)'),
  endpoint: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
  region: z.string().min(1).max(64),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3–63 of a-z 0-9 . -)'),
  /** '' or a path ending in '/': the store's layout starts there. */
  prefix: z.string().regex(/^(|[^/].*\/)$/, "empty, or a path like 'laptop/' (no leading slash, one at the end)"),
  /** Path-style addressing (self-hosted services); virtual-host style otherwise. */
  pathStyle: z.boolean(),
});
export type Remote = z.infer<typeof remoteSchema>;

export const credentialsSchema = z.strictObject({
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
});
export type RemoteCredentials = z.infer<typeof credentialsSchema>;

const RemotesFile = z.strictObject({ version: z.literal(VERSION), remotes: z.array(remoteSchema) });
const CredentialsFile = z.strictObject({
  version: z.literal(VERSION),
  credentials: z.record(z.string(), credentialsSchema),
});
const SealedFile = z.strictObject({
  version: z.literal(VERSION),
  sealed: z.record(z.string(), z.string().max(16 * 1024)),
});

/** Who can give a remote and its credentials: the book itself, or the app's host (sealed ones, handed to a job). */
export type RemoteLookup = Pick<RemoteBook, 'get' | 'credentials'>;

/** A prefix as the layout wants it: no leading slash, one at the end (or empty). */
export function normalPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/** The remotes of this user, edited under a lock like the plans (several processes may edit at once). */
export class RemoteBook {
  private readonly file: string;
  private readonly credentialsFile: string;
  private readonly sealedFile: string;

  constructor(readonly configDir: string) {
    this.file = join(configDir, REMOTES_FILE);
    this.credentialsFile = join(configDir, CREDENTIALS_FILE);
    this.sealedFile = join(configDir, SEALED_CREDENTIALS_FILE);
  }

  /** A remote's settings checked as add and replace check them (a prefix gets its slash), without keeping them. */
  static validate(input: Remote): Remote {
    return parse(remoteSchema, { ...input, prefix: normalPrefix(input.prefix) }, 'remote');
  }

  list(): Remote[] {
    return readJsonFile(this.file, RemotesFile, 'a remotes file')?.remotes ?? [];
  }

  get(name: string): Remote {
    const remote = this.list().find((r) => r.name === name);
    if (remote) return remote;
    const names = this.list().map((r) => r.name);
    throw new CairnError(
      'NOT_FOUND',
      `no remote named "${name}" (${names.length > 0 ? `there are: ${names.join(', ')}` : 'cairn remote add makes one'})`,
    );
  }

  add(input: Remote, credentials?: RemoteCredentials): Remote {
    const remote = RemoteBook.validate(input);
    this.change(() => {
      const remotes = this.list();
      if (remotes.some((r) => r.name === remote.name))
        throw new CairnError('ALREADY_EXISTS', `a remote named "${remote.name}" exists already`);
      writeJsonFileAtomic(this.file, { version: VERSION, remotes: [...remotes, remote] });
      if (credentials) this.writeCredentials({ ...this.readCredentials(), [remote.name]: credentials });
    });
    return remote;
  }

  /** New settings for an existing remote (its name stays: plans push to it by name). */
  replace(input: Remote): Remote {
    const remote = RemoteBook.validate(input);
    this.get(remote.name);
    this.change(() => {
      const remotes = this.list().map((r) => (r.name === remote.name ? remote : r));
      writeJsonFileAtomic(this.file, { version: VERSION, remotes });
    });
    return remote;
  }

  /** Stores a remote's credentials in remote-credentials.json (mode 0600), or drops them (undefined). */
  setCredentials(name: string, credentials: RemoteCredentials | undefined): void {
    this.get(name);
    this.change(() => this.writeCredentialsOf(name, credentials));
  }

  remove(name: string): Remote {
    const remote = this.get(name);
    this.change(() => {
      writeJsonFileAtomic(this.file, { version: VERSION, remotes: this.list().filter((r) => r.name !== name) });
      this.writeCredentialsOf(name, undefined);
      this.writeSealedOf(name, undefined);
    });
    return remote;
  }

  /** The sealed credentials the desktop app keeps for a remote (opaque bytes; only it can open them). */
  sealedCredentials(name: string): Buffer | undefined {
    const sealed = this.readSealed()[name];
    return sealed === undefined ? undefined : Buffer.from(sealed, 'base64');
  }

  /** Keeps sealed credentials for a remote, or drops them (undefined). */
  setSealedCredentials(name: string, sealed: Buffer | undefined): void {
    this.get(name);
    this.change(() => this.writeSealedOf(name, sealed));
  }

  /**
   * The credentials for a remote: CAIRN_S3_ACCESS_KEY_ID and CAIRN_S3_SECRET_ACCESS_KEY when set (a script says
   * so for this run), else those stored with it, else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. AWS's come last:
   * a shell set up for AWS must not send its keys to another service whose remote has its own. None is an error.
   */
  credentials(name: string, env: NodeJS.ProcessEnv = process.env): RemoteCredentials {
    const fromEnv = (id: string | undefined, secret: string | undefined) =>
      id && secret ? { accessKeyId: id, secretAccessKey: secret } : undefined;
    const found =
      fromEnv(env.CAIRN_S3_ACCESS_KEY_ID, env.CAIRN_S3_SECRET_ACCESS_KEY) ??
      this.readCredentials()[name] ??
      fromEnv(env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY);
    if (found) return found;
    const envNames = 'CAIRN_S3_ACCESS_KEY_ID and CAIRN_S3_SECRET_ACCESS_KEY';
    throw new CairnError(
      'INVALID_ARGUMENT',
      this.sealedCredentials(name)
        ? `the credentials of the remote "${name}" are sealed by the desktop app with the OS keychain, which only the app can open: set ${envNames} here`
        : `no credentials for the remote "${name}": set ${envNames}, or store them with cairn remote add`,
    );
  }

  hasStoredCredentials(name: string): boolean {
    return this.readCredentials()[name] !== undefined;
  }

  private readCredentials(): Record<string, RemoteCredentials> {
    return readJsonFile(this.credentialsFile, CredentialsFile, 'a remote credentials file')?.credentials ?? {};
  }

  private writeCredentials(credentials: Record<string, RemoteCredentials>): void {
    writeJsonFileAtomic(this.credentialsFile, { version: VERSION, credentials });
  }

  private writeCredentialsOf(name: string, credentials: RemoteCredentials | undefined): void {
    const { [name]: old, ...rest } = this.readCredentials();
    if (credentials === undefined && old === undefined) return;
    this.writeCredentials(
      credentials ? { ...rest, [name]: parse(credentialsSchema, credentials, 'credentials') } : rest,
    );
  }

  private readSealed(): Record<string, string> {
    return readJsonFile(this.sealedFile, SealedFile, 'a file of sealed remote credentials')?.sealed ?? {};
  }

  private writeSealedOf(name: string, sealed: Buffer | undefined): void {
    const { [name]: old, ...rest } = this.readSealed();
    if (sealed === undefined && old === undefined) return;
    const next = sealed ? { ...rest, [name]: sealed.toString('base64') } : rest;
    writeJsonFileAtomic(this.sealedFile, { version: VERSION, sealed: next });
  }

  private change(apply: () => void): void {
    const lock = acquireExclusiveLock(this.configDir, 'remotes', 'an edit of the remotes', undefined, { waitMs: 5000 });
    withLock(lock, apply);
  }
}

export function credentialsFromEnv(env: NodeJS.ProcessEnv): RemoteCredentials | undefined {
  const accessKeyId = env.CAIRN_S3_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.CAIRN_S3_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY;
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  throw new CairnError('INVALID_ARGUMENT', `invalid ${what}: ${where}${issue?.message ?? 'wrong shape'}`);
}
