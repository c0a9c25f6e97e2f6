import { basename } from 'node:path';
import { CairnError } from '../errors.js';
import { assertArchiveFileName, toBackupId } from '../backup/backup-names.js';
import type { Manifest } from '../backup/manifest.js';

/** `<name>.img.fidx` for an image file: `disk.img` → `disk.img.fidx`, `sda.raw` → `sda.raw.img.fidx`. */
export function imageArchiveName(file: string, name?: string): string {
  if (name !== undefined) {
    const full = name.endsWith('.fidx') ? name : name.endsWith('.img') ? `${name}.fidx` : `${name}.img.fidx`;
    return assertArchiveFileName(full);
  }
  const base = toBackupId(basename(file).replace(/\.img$/i, '')) ?? 'image';
  return assertArchiveFileName(`${base}.img.fidx`);
}

/** The image archive of a snapshot: the one named, or the only `.fidx` it has. */
export function pickImageArchive(manifest: Manifest, name?: string): string {
  const images = manifest.files.map((f) => f.filename).filter((f) => f.endsWith('.fidx'));
  if (name !== undefined) {
    const wanted = [name, `${name}.fidx`, `${name}.img.fidx`].find((n) => images.includes(n));
    if (!wanted)
      throw new CairnError(
        'NOT_FOUND',
        `no image archive ${name} in this snapshot (it has: ${images.join(', ') || 'none'})`,
      );
    return wanted;
  }
  if (images.length !== 1) {
    throw new CairnError(
      images.length === 0 ? 'NOT_FOUND' : 'INVALID_ARGUMENT',
      images.length === 0
        ? 'this snapshot has no image archive'
        : `this snapshot has several image archives (${images.join(', ')}); name one`,
    );
  }
  return images[0]!;
}
