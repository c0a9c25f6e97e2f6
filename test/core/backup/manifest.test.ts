import { createHash, createHmac, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  decodeManifest,
  encodeManifest,
  manifestSignature,
  newManifest,
  signManifest,
  verifyManifestSignature,
  type Manifest,
} from '../../../core/backup/manifest.js';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { blobKind, decodeBlob, encodeBlob } from '../../../core/blob/data-blob.js';
import { CairnError } from '../../../core/errors.js';
import { expectCairnError } from '../../support/errors.js';

const WHAT = '/store/host/docs/2024-06-05T14:24:36Z/index.json.blob';

function sampleManifest(): Manifest {
  const m = newManifest({ type: 'host', id: 'docs', time: 1717597476 });
  m.files.push({ filename: 'root.pxar.didx', 'crypt-mode': 'none', size: 123456789, csum: 'ab'.repeat(32) });
  m.files.push({
    filename: 'qemu-server.conf.blob',
    'crypt-mode': 'none',
    size: 345,
    csum: createHash('sha256').update('x').digest('hex'),
  });
  m.unprotected = {
    notes: 'first line\nsecond line',
    chunk_upload_stats: { count: 3, size: 10, compressed_size: 5, duplicates: 1 },
  };
  return m;
}

/** A manifest blob with any JSON text (or value) as payload, encoded the way Cairn encodes manifests. */
function blobOf(value: unknown): Buffer {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return encodeBlob(Buffer.from(text), { compress: true });
}

function expectCorrupt(raw: Uint8Array, pattern: RegExp): CairnError {
  let error: unknown;
  try {
    decodeManifest(raw, WHAT);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(CairnError);
  const e = error as CairnError;
  expect(e.code).toBe('CORRUPT');
  expect(e.message.startsWith(`${WHAT}: `)).toBe(true);
  expect(e.message).toMatch(pattern);
  return e;
}

describe('manifest encoding', () => {
  it('round-trips through encode and decode', () => {
    const m = sampleManifest();
    const decoded = decodeManifest(encodeManifest(m), WHAT);
    expect(decoded).toEqual(m);
    const empty = newManifest({ type: 'vm', id: '100', time: 1 });
    expect(decodeManifest(encodeManifest(empty), WHAT)).toEqual({
      'backup-type': 'vm',
      'backup-id': '100',
      'backup-time': 1,
      files: [],
      unprotected: {},
    });
  });

  it('is a zstd-compressed DataBlob of 2-space pretty JSON with kebab-case keys (spec 5.3)', () => {
    const m = sampleManifest();
    const raw = encodeManifest(m);
    expect(blobKind(raw)).toBe('compressed');
    const text = decodeBlob(raw).toString('utf8');
    expect(text).toBe(JSON.stringify(m, null, 2));
    expect(
      text.startsWith(
        '{\n  "backup-type": "host",\n  "backup-id": "docs",\n  "backup-time": 1717597476,\n  "files": [\n    {\n',
      ),
    ).toBe(true);
    expect(text).toContain('      "crypt-mode": "none",\n');
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['backup-type', 'backup-id', 'backup-time', 'files', 'unprotected']);
    expect(Object.keys((parsed.files as object[])[0]!)).toEqual(['filename', 'crypt-mode', 'size', 'csum']);
  });

  it('fills in what old manifests leave out: crypt-mode none, empty unprotected', () => {
    const old = {
      'backup-type': 'ct',
      'backup-id': 'web',
      'backup-time': 1500000000,
      files: [{ filename: 'root.pxar.didx', size: 1, csum: '00'.repeat(32) }],
    };
    const m = decodeManifest(blobOf(old), WHAT);
    expect(m.files[0]!['crypt-mode']).toBe('none');
    expect(m.unprotected).toEqual({});
    expect(decodeManifest(blobOf({ ...old, unprotected: null }), WHAT).unprotected).toEqual({});
    // An uncompressed blob is a valid manifest blob too.
    expect(decodeManifest(encodeBlob(Buffer.from(JSON.stringify(old)), { compress: false }), WHAT)['backup-id']).toBe(
      'web',
    );
  });

  it('uses notes and a verify state only of the right shape (the unprotected part is not signed); keeps the rest', () => {
    const base = {
      'backup-type': 'host',
      'backup-id': 'docs',
      'backup-time': 1500000000,
      files: [{ filename: 'folder.meta.didx', size: 1, csum: '00'.repeat(32) }],
    };
    const odd = decodeManifest(
      blobOf({ ...base, unprotected: { notes: 5, verify_state: 'ok', 'chunk-upload-stats': { count: 1 } } }),
      WHAT,
    );
    expect(odd.unprotected).toEqual({ 'chunk-upload-stats': { count: 1 } });
    const wrongState = decodeManifest(
      blobOf({ ...base, unprotected: { verify_state: { state: 'maybe', upid: 'x' } } }),
      WHAT,
    );
    expect(wrongState.unprotected.verify_state).toBeUndefined();
    const good = decodeManifest(
      blobOf({ ...base, unprotected: { notes: 'n', verify_state: { state: 'failed', upid: 'x' } } }),
      WHAT,
    );
    expect(good.unprotected).toEqual({ notes: 'n', verify_state: { state: 'failed', upid: 'x' } });
  });

  it('rejects corrupt blobs and invalid manifests with CORRUPT, naming the file', () => {
    const good = encodeManifest(sampleManifest());
    const flipped = Buffer.from(good);
    flipped[flipped.length - 3]! ^= 0x40;
    expectCorrupt(flipped, /CRC mismatch/);
    expectCorrupt(good.subarray(0, 5), /truncated/);
    expectCorrupt(Buffer.from('{"backup-type":"host"}'), /unknown blob magic/);
    expectCorrupt(blobOf('this is not JSON'), /not valid JSON/);
    expectCorrupt(blobOf('[1, 2]'), /not an object/);
    expectCorrupt(blobOf('"host"'), /not an object/);

    const base = JSON.parse(decodeBlob(good).toString('utf8')) as Record<string, unknown>;
    const file0 = (base.files as Record<string, unknown>[])[0]!;
    const withFile = (patch: Record<string, unknown>) => ({ ...base, files: [{ ...file0, ...patch }] });
    const { files: _files, ...noFiles } = base;
    expectCorrupt(blobOf(noFiles), /files is not a list/);
    expectCorrupt(blobOf({ ...base, files: {} }), /files is not a list/);
    expectCorrupt(blobOf({ ...base, files: [null] }), /not an object/);
    expectCorrupt(blobOf({ ...base, 'backup-type': 'VM' }), /backup type/);
    expectCorrupt(blobOf({ ...base, 'backup-id': '../etc' }), /backup id/);
    expectCorrupt(blobOf({ ...base, 'backup-time': 'yesterday' }), /backup-time/);
    expectCorrupt(blobOf({ ...base, 'backup-time': 1.5 }), /backup-time/);
    expectCorrupt(blobOf(withFile({ filename: '../x.didx' })), /archive name "\.\.\/x\.didx"/);
    expectCorrupt(blobOf(withFile({ filename: 'index.json.blob' })), /archive name/);
    expectCorrupt(blobOf(withFile({ filename: 'notes.txt' })), /archive name/);
    expectCorrupt(blobOf(withFile({ 'crypt-mode': 'rot13' })), /crypt-mode of root\.pxar\.didx/);
    expectCorrupt(blobOf(withFile({ csum: 'abc' })), /csum of root\.pxar\.didx/);
    expectCorrupt(blobOf(withFile({ csum: 'AB'.repeat(32) })), /csum of root\.pxar\.didx/);
    expectCorrupt(blobOf(withFile({ size: -1 })), /size of root\.pxar\.didx/);
    expectCorrupt(blobOf(withFile({ size: '12' })), /size of root\.pxar\.didx/);
    expectCorrupt(blobOf({ ...base, unprotected: [] }), /unprotected/);
    // Fields of the wrong JSON type are corrupt, not coerced to strings ('undefined' would be a valid id).
    const { 'backup-id': _id, ...noId } = base;
    expectCorrupt(blobOf(noId), /backup-id is not a string/);
    expectCorrupt(blobOf({ ...base, 'backup-id': 100 }), /backup-id is not a string/);
    expectCorrupt(blobOf({ ...base, 'backup-type': ['host'] }), /backup-type or backup-id is not a string/);
    expectCorrupt(blobOf(withFile({ filename: ['root.pxar.didx'] })), /a file entry has no filename/);
    expectCorrupt(blobOf(withFile({ filename: undefined })), /a file entry has no filename/);
  });
});

describe('canonical JSON (spec 11.4)', () => {
  it('sorts keys by code unit, recursively, with no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 'x y', y: true }], c: 'é' } })).toBe(
      '{"a":{"c":"é","d":[3,{"y":true,"z":"x y"}]},"b":1}',
    );
    expect(canonicalJson({ 'backup-type': 'host', 'backup-time': 1, 'backup-id': 'x', B: 0, _: 0 })).toBe(
      '{"B":0,"_":0,"backup-id":"x","backup-time":1,"backup-type":"host"}',
    );
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
  });

  it('rejects null anywhere', () => {
    for (const v of [null, { a: null }, [1, null], { a: { b: [null] } }]) {
      expect(() => canonicalJson(v)).toThrow(CairnError);
      try {
        canonicalJson(v);
      } catch (err) {
        expect((err as CairnError).code).toBe('INVALID_ARGUMENT');
      }
    }
  });
});

describe('manifest signature', () => {
  it('HMACs with id_key = PBKDF2(key, "_id_key", 10) (spec 11.1, A.1)', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const crypt = new CryptConfig(key);
    expect(crypt.idKey.toString('hex')).toBe('7c2c013efd07f3b25717a485263343cd4d292a4b65c200bb3b18ea227abe225c');
    expect(crypt.hmac('hello').toString('hex')).toBe(createHmac('sha256', crypt.idKey).update('hello').digest('hex'));
    expect(crypt.hmac(Buffer.from('hello')).equals(crypt.hmac('hello'))).toBe(true);
    expect(crypt.hmac('hello').equals(crypt.hmac('hellO'))).toBe(false);
    expect(() => new CryptConfig(Buffer.alloc(31))).toThrow(/32 bytes/);
  });

  it('reproduces the spec 11.4 / Appendix A.4 vector', () => {
    const key = scryptSync('test', '', 32, { N: 65536, r: 8, p: 1, maxmem: 128 * 1024 * 1024 });
    const crypt = new CryptConfig(key);
    const m = newManifest({ type: 'host', id: 'elsa', time: 1593179765 });
    m.files.push({ filename: 'test1.img.fidx', 'crypt-mode': 'encrypt', size: 200, csum: '01'.repeat(32) });
    m.files.push({ filename: 'abc.blob', 'crypt-mode': 'none', size: 200, csum: '02'.repeat(32) });
    const expected = 'd7b446fb7db081662081d4b40fedd858a1d6307a5aff4ecff7d5bf4fd35679e9';
    expect(manifestSignature(m, crypt)).toBe(expected);

    const { unprotected: _u, signature: _s, ...signed } = m;
    const canonical = canonicalJson(signed);
    expect(canonical).toBe(
      '{"backup-id":"elsa","backup-time":1593179765,"backup-type":"host","files":[' +
        `{"crypt-mode":"encrypt","csum":"${'01'.repeat(32)}","filename":"test1.img.fidx","size":200},` +
        `{"crypt-mode":"none","csum":"${'02'.repeat(32)}","filename":"abc.blob","size":200}]}`,
    );
    expect(crypt.hmac(canonical).toString('hex')).toBe(expected);

    // unprotected and signature are not signed; everything else is.
    m.unprotected = { notes: 'changed by the server', 'key-fingerprint': crypt.fingerprint() };
    m.signature = expected;
    expect(manifestSignature(m, crypt)).toBe(expected);
    m.signature = null;
    expect(manifestSignature(m, crypt)).toBe(expected);
    m.files[1]!.size = 201;
    expect(manifestSignature(m, crypt)).not.toBe(expected);
    m.files[1]!.size = 200;
    expect(manifestSignature(m, new CryptConfig(Buffer.alloc(32, 7)))).not.toBe(expected);
  });
});

describe('signing and verifying a manifest (spec 11.4)', () => {
  const SIGNATURE = 'd7b446fb7db081662081d4b40fedd858a1d6307a5aff4ecff7d5bf4fd35679e9';
  // The spec's key: scrypt("test", empty salt); one derivation for all the cases.
  const crypt = new CryptConfig(scryptSync('test', '', 32, { N: 65536, r: 8, p: 1, maxmem: 128 * 1024 * 1024 }));

  function elsa(): Manifest {
    const m = newManifest({ type: 'host', id: 'elsa', time: 1593179765 });
    m.files.push({ filename: 'test1.img.fidx', 'crypt-mode': 'encrypt', size: 200, csum: '01'.repeat(32) });
    m.files.push({ filename: 'abc.blob', 'crypt-mode': 'none', size: 200, csum: '02'.repeat(32) });
    return m;
  }

  it('signs with the spec vector and records the key fingerprint; the signature survives the blob', () => {
    const m = elsa();
    signManifest(m, crypt);
    expect(m.signature).toBe(SIGNATURE);
    expect(m.unprotected['key-fingerprint']).toBe(crypt.fingerprint());
    const back = decodeManifest(encodeManifest(m), WHAT);
    expect(back.signature).toBe(SIGNATURE);
    expect(verifyManifestSignature(back, crypt, WHAT)).toBe('valid');
    // The server may change the unprotected part: notes, verify state.
    back.unprotected.notes = 'added later';
    back.unprotected.verify_state = { upid: 'UPID:x', state: 'ok' };
    expect(verifyManifestSignature(back, crypt, WHAT)).toBe('valid');
  });

  it('names a manifest signed with another key, and one changed after signing', () => {
    const other = new CryptConfig(Buffer.alloc(32, 7));
    const m = elsa();
    signManifest(m, crypt);
    expectCairnError(
      () => verifyManifestSignature(m, other, WHAT),
      'INVALID_ARGUMENT',
      /signed with the key [0-9a-f:]{23}, not with this key/,
    );
    // Without key-fingerprint only the signature tells.
    delete m.unprotected['key-fingerprint'];
    expectCairnError(() => verifyManifestSignature(m, other, WHAT), 'CORRUPT', /wrong signature/);
    m.unprotected['key-fingerprint'] = crypt.fingerprint().toUpperCase();
    expect(verifyManifestSignature(m, crypt, WHAT)).toBe('valid');
    m.files[0]!.size = 201;
    expectCairnError(() => verifyManifestSignature(m, crypt, WHAT), 'CORRUPT', new RegExp(`${WHAT}: wrong signature`));
    m.files[0]!.size = 200;
    m.signature = SIGNATURE.toUpperCase();
    expectCairnError(() => verifyManifestSignature(m, crypt, WHAT), 'CORRUPT', /wrong signature/);
    m.signature = SIGNATURE;
    m.unprotected['key-fingerprint'] = 'ab:cd';
    expectCairnError(() => verifyManifestSignature(m, crypt, WHAT), 'CORRUPT', /key-fingerprint is not a fingerprint/);
  });

  it('an unsigned manifest is unsigned, whatever the key', () => {
    const m = elsa();
    expect(verifyManifestSignature(m, crypt, WHAT)).toBe('unsigned');
    m.signature = null;
    expect(verifyManifestSignature(m, crypt, WHAT)).toBe('unsigned');
  });
});
