import type { RemoteCapabilityRow, RemoteCredentialsState, RemoteInfo } from '../../contract/remotes.js';

/** Each probe of a remote check as a user reads it: what works, or what is missing. */
export const CAPABILITY_WORDS: Record<RemoteCapabilityRow['name'], string> = {
  bucket: 'Bucket and credentials',
  'conditional-create': 'Safe uploads from several computers (conditional create)',
  'content-md5': 'Uploads checked by the service (Content-MD5)',
  'paged-listing': 'Listings of many objects (paging)',
  'delete-objects': 'Deleting in batches (remote prune and GC)',
};

/** Where a remote's credentials are kept, in words (never what they are). */
export const CREDENTIALS_WORDS: Record<RemoteCredentialsState, string> = {
  keychain: 'credentials stored, sealed by the OS keychain',
  file: 'credentials stored in remote-credentials.json (mode 0600; the CLI uses them too)',
  environment: 'credentials from the environment (CAIRN_S3_* or AWS_*)',
  missing: 'no credentials: edit the remote to enter them',
};

/** "bucket/prefix at endpoint". */
export function remotePlace(r: Pick<RemoteInfo, 'bucket' | 'prefix' | 'endpoint'>): string {
  return `${r.bucket}${r.prefix ? `/${r.prefix}` : ''} at ${r.endpoint}`;
}
