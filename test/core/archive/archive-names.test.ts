import { describe, expect, it } from 'vitest';
import { displayName, fsPath, parseEscapedName } from '../../../core/archive/names.js';
import { pseudoRandomBytes } from '../../support/data.js';

describe('names that are not valid UTF-8: shown with escapes, found again by them', () => {
  it('shows valid UTF-8 as it is, escapes only what is not, and parses the escapes back', () => {
    expect(displayName(Buffer.from('plain \\x41 caf\u00e9 \u{1f600}'))).toBe('plain \\x41 caf\u00e9 \u{1f600}');
    expect(displayName(Buffer.from([0x61, 0xff, 0x5c, 0xc3, 0xa9, 0xc3]))).toBe('a\\xff\\\\\u00e9\\xc3');
    // Overlong and surrogate encodings are not UTF-8, byte by byte.
    expect(displayName(Buffer.from([0xc0, 0xaf]))).toBe('\\xc0\\xaf');
    expect(displayName(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\\xed\\xa0\\x80');
    expect(parseEscapedName('a\\xff\\\\\u00e9\\xc3')).toEqual(Buffer.from([0x61, 0xff, 0x5c, 0xc3, 0xa9, 0xc3]));
    expect(parseEscapedName('a\\XFF')).toBeUndefined(); // only \x
    expect(parseEscapedName('a\\x4')).toBeUndefined();
    expect(parseEscapedName('a\\q\\xff')).toBeUndefined();
    expect(parseEscapedName('no escapes')).toBeUndefined();
    // Escapes that spell valid UTF-8 stand for nothing: such a name is always shown as it is.
    expect(parseEscapedName('\\x41')).toBeUndefined();
    expect(parseEscapedName('\\xc3\\xa9')).toBeUndefined();
    expect(parseEscapedName('\\\\')).toBeUndefined();
  });

  it('gives every name of random bytes its own shown form, which leads back to exactly those bytes', () => {
    const alphabet = [0x61, 0x78, 0x5c, 0x2e, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x80, 0xff, 0xfe, 0x30, 0x41];
    const noise = pseudoRandomBytes(40_000, 'names');
    const shown = new Map<string, string>();
    let invalid = 0;
    for (let i = 0; i + 8 <= noise.length; i += 8) {
      const name = Buffer.from(
        Array.from(noise.subarray(i, i + 1 + (noise[i]! % 7)), (b) => alphabet[b % alphabet.length]!),
      );
      const text = displayName(name);
      const other = shown.get(text);
      if (other !== undefined) expect(other, text).toBe(name.toString('hex'));
      shown.set(text, name.toString('hex'));
      if (Buffer.from(name.toString()).equals(name)) {
        expect(text).toBe(name.toString());
        expect(parseEscapedName(text)).toBeUndefined();
      } else {
        invalid++;
        expect(parseEscapedName(text)?.toString('hex'), text).toBe(name.toString('hex'));
      }
    }
    expect(invalid).toBeGreaterThan(1000);
    expect(shown.size).toBeGreaterThan(2000);
  });

  it('fsPath: text for UTF-8, else the bytes in a buffer of their own', () => {
    expect(fsPath(Buffer.from('/tmp/caf\u00e9'))).toBe('/tmp/caf\u00e9');
    const pooled = Buffer.from([0x2f, 0x78, 0xff]); // small buffers share a pool
    const own = fsPath(pooled);
    expect(Buffer.isBuffer(own) && own.equals(pooled)).toBe(true);
    expect((own as Buffer).buffer.byteLength).toBe(3);
  });
});
