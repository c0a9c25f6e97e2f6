import { isUtf8 } from 'node:buffer';

/**
 * Entry names are bytes: not every file name is valid UTF-8 (docs/FORMAT.md). To show and type them:
 *  - a name (or '/'-separated path) that is valid UTF-8 is shown as it is;
 *  - one that is not is shown with each byte that is not part of a valid UTF-8 sequence as `\xHH` (lower-case
 *    hex) and each backslash as `\\`, so two different names never look the same, and the shown form leads back
 *    to the exact bytes (`parseEscapedName`).
 * Files are always read and written under their exact bytes; this form is only for people and paths typed in.
 */
export function displayName(name: Uint8Array | string): string {
  if (typeof name === 'string') return name;
  const bytes = Buffer.from(name.buffer, name.byteOffset, name.byteLength);
  if (isUtf8(bytes)) return bytes.toString();
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const n = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (n === 1) {
      out += b === 0x5c ? '\\\\' : String.fromCharCode(b);
      i++;
    } else if (n > 1 && i + n <= bytes.length && isUtf8(bytes.subarray(i, i + n))) {
      out += bytes.toString('utf8', i, i + n);
      i += n;
    } else {
      out += `\\x${b.toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}

/**
 * The bytes a shown name stands for when it uses the escapes of `displayName` (`\xHH`, `\\`); undefined when
 * it has none, has a malformed one, or does not stand for a name that is invalid UTF-8 (a valid name is always
 * shown as it is, so `\x41` names the file `\x41`, never `A`).
 */
export function parseEscapedName(text: string): Buffer | undefined {
  if (!text.includes('\\')) return undefined;
  const parts: Buffer[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      literal += c;
      continue;
    }
    const next = text[i + 1];
    if (next === '\\') {
      literal += '\\';
      i++;
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      parts.push(Buffer.from(literal), Buffer.from([Number.parseInt(text.slice(i + 2, i + 4), 16)]));
      literal = '';
      i += 3;
    } else {
      return undefined;
    }
  }
  parts.push(Buffer.from(literal));
  const bytes = Buffer.concat(parts);
  return isUtf8(bytes) ? undefined : bytes;
}

/**
 * A path for node:fs: a string when the bytes are valid UTF-8 (it encodes back to the same bytes), else the
 * bytes themselves, in a buffer of their own (a pooled slice would copy the whole pool when sent to a worker).
 */
export function fsPath(bytes: Uint8Array): string | Buffer {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(b)) return b.toString();
  const own = new Uint8Array(b.length);
  own.set(b);
  return Buffer.from(own.buffer);
}

/** A path as node:fs takes it, from `fsPath`'s result (a Buffer sent to a worker arrives as a plain Uint8Array). */
export function asFsPath(path: string | Uint8Array): string | Buffer {
  return typeof path === 'string' ? path : Buffer.from(path.buffer, path.byteOffset, path.byteLength);
}
