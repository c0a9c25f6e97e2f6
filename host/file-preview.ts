import {
  PREVIEW_HEX_BYTES,
  PREVIEW_IMAGE_BYTES,
  PREVIEW_TEXT_BYTES,
  type FilePreview,
  type PreviewImageType,
} from '../contract/find.js';
import { EntryKind, type FileEntry } from '../core/archive/archive-format.js';
import type { FolderArchiveReader } from '../core/archive/folder-reader.js';
import { displayName } from '../core/archive/names.js';
import { CairnError } from '../core/errors.js';

/**
 * A file of a snapshot as the preview shows it. The bytes come through the reader's verified slices, as a download's
 * do (every chunk checked against its digest), and only as many as the preview needs; nothing is written to disk.
 */
export function previewFile(reader: FolderArchiveReader, path: string): FilePreview {
  const entry = reader.get(path);
  if (entry.kind !== EntryKind.File && entry.kind !== EntryKind.Hardlink)
    throw new CairnError('INVALID_ARGUMENT', `${path} is not a file`);
  const name = displayName(entry.name);
  const size = entry.size;
  const head = readHead(reader, entry, Math.min(size, PREVIEW_TEXT_BYTES));
  const mime = imageType(head, name);
  if (mime) {
    if (size > PREVIEW_IMAGE_BYTES) return { kind: 'image-too-large', name, size, mime };
    const whole = size === head.length ? head : readHead(reader, entry, size);
    return { kind: 'image', name, size, mime, data: whole.toString('base64') };
  }
  const text = utf8Text(head, head.length < size);
  if (text !== undefined) return { kind: 'text', name, size, text, truncated: head.length < size };
  const first = head.subarray(0, PREVIEW_HEX_BYTES);
  return { kind: 'binary', name, size, data: first.toString('base64'), truncated: first.length < size };
}

/** The first `limit` bytes of a file; the slices after them are never read. */
function readHead(reader: FolderArchiveReader, entry: FileEntry, limit: number): Buffer {
  const parts: Buffer[] = [];
  let got = 0;
  if (limit === 0) return Buffer.alloc(0);
  for (const slice of reader.fileContent(entry)) {
    parts.push(slice.subarray(0, limit - got));
    got += Math.min(slice.length, limit - got);
    if (got >= limit) break; // leaving the loop closes the generator: no further chunk is read
  }
  return Buffer.concat(parts, got);
}

/** An image by its first bytes (its name alone does not make a file an image); SVG by name and markup. */
export function imageType(head: Buffer, name: string): PreviewImageType | undefined {
  const starts = (hex: string, at = 0) => head.subarray(at, at + hex.length / 2).equals(Buffer.from(hex, 'hex'));
  if (starts('89504e470d0a1a0a')) return 'image/png';
  if (starts('ffd8ff')) return 'image/jpeg';
  if (starts('474946383761') || starts('474946383961')) return 'image/gif';
  if (starts('52494646') && starts('57454250', 8)) return 'image/webp';
  if (/\.svgz?$/i.test(name) && /<svg[\s>]/i.test(head.subarray(0, 4096).toString('utf8'))) return 'image/svg+xml';
  return undefined;
}

/**
 * The bytes as text when they are UTF-8 without NULs (a file cut at the preview's end may end inside a
 * character: up to three bytes are dropped there); undefined for anything else.
 */
export function utf8Text(bytes: Buffer, cut: boolean): string | undefined {
  if (bytes.includes(0)) return undefined;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let drop = 0; drop <= (cut ? 3 : 0); drop++) {
    try {
      return decoder.decode(bytes.subarray(0, bytes.length - drop));
    } catch {
      // cut inside a character, or not UTF-8
    }
  }
  return undefined;
}
