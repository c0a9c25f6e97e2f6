import { createHash } from 'node:crypto';
import type { Manifest } from '../backup/manifest.js';
import { CairnError } from '../errors.js';

/** An index's csum is SHA-256 of everything after its 4096-byte header; a blob's, of the whole file (spec 5.3). */
export function assertMatchesManifest(raw: Buffer, file: Manifest['files'][number], what: string): void {
  const isBlob = file.filename.endsWith('.blob');
  const csum = createHash('sha256')
    .update(isBlob ? raw : raw.subarray(4096))
    .digest('hex');
  if (csum !== file.csum || (isBlob && raw.length !== file.size))
    throw new CairnError('CORRUPT', `${what} differs from its snapshot's manifest (checksum or size)`);
}
