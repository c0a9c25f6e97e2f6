import { createCipheriv, pbkdf2Sync, scryptSync } from 'node:crypto';
import { readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import {
  changePassphrase,
  createKey,
  decryptKey,
  keyFileText,
  readKeyFile,
  writeKeyFile,
} from '../../../core/crypto/key-file.js';
import type { KdfKind } from '../../../core/crypto/kdf.js';
import { expectCairnError, expectCode } from '../../support/errors.js';
import { useTempDirs } from '../../support/temp.js';

/** Spec 11.2: key bytes 00..1f. */
const SPEC_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const SPEC_FINGERPRINT =
  '0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b';
const PASSPHRASE = Buffer.from('correct horse');
const RFC3339_LOCAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;

/**
 * A key file made by hand from the spec's rules (11.3), not by Cairn: derived = KDF(passphrase, salt), data =
 * IV || tag || AES-256-GCM(derived, IV, no AAD, key), the kdf as serde's externally tagged enum.
 */
function handMadeKeyFile(kdf: 'scrypt' | 'pbkdf2', extra = ''): string {
  const data = handMadeData(kdf);
  const salt = Buffer.alloc(32, 0xa5).toString('base64');
  const kdfJson =
    kdf === 'scrypt'
      ? `{"Scrypt":{"n":65536,"r":8,"p":1,"salt":"${salt}"}}`
      : `{"PBKDF2":{"iter":65535,"salt":"${salt}"}}`;
  return `{"kdf":${kdfJson},"created":"2020-06-26T15:56:05+02:00","modified":"2020-06-26T13:56:05Z","data":"${data}","fingerprint":"${SPEC_FINGERPRINT}"${extra}}`;
}

/** `data` of handMadeKeyFile, derived once per kdf (scrypt costs ~100 ms). */
const handMade = new Map<string, string>();
function handMadeData(kdf: 'scrypt' | 'pbkdf2'): string {
  const known = handMade.get(kdf);
  if (known) return known;
  const salt = Buffer.alloc(32, 0xa5);
  const derived =
    kdf === 'scrypt'
      ? scryptSync(PASSPHRASE, salt, 32, { N: 65536, r: 8, p: 1, maxmem: 256 * 1024 * 1024 })
      : pbkdf2Sync(PASSPHRASE, salt, 65535, 32, 'sha256');
  const iv = Buffer.alloc(16, 0x3c);
  const cipher = createCipheriv('aes-256-gcm', derived, iv);
  const encrypted = Buffer.concat([cipher.update(SPEC_KEY), cipher.final()]);
  const data = Buffer.concat([iv, cipher.getAuthTag(), encrypted]).toString('base64');
  handMade.set(kdf, data);
  return data;
}

describe('key files in PBS format', () => {
  const temp = useTempDirs();

  function file(text: string): string {
    const path = join(temp('key'), 'key.json');
    writeFileSync(path, text);
    return path;
  }

  it('gives the spec fingerprint for key bytes 00..1f, from a key file without kdf', async () => {
    expect(new CryptConfig(SPEC_KEY).fingerprint()).toBe(SPEC_FINGERPRINT);
    const path = file(
      `{"kdf":null,"created":"2020-06-26T13:56:05Z","modified":"2020-06-26T13:56:05Z","data":"${SPEC_KEY.toString('base64')}"}`,
    );
    const config = readKeyFile(path);
    expect(config).toMatchObject({ kdf: null, created: 1593179765, modified: 1593179765 });
    expect(config.fingerprint).toBeUndefined();
    const { key, fingerprint } = await decryptKey(config, undefined, path);
    expect(key.equals(SPEC_KEY)).toBe(true);
    expect(fingerprint).toBe(SPEC_FINGERPRINT);
  });

  it.each(['scrypt', 'pbkdf2'] as const)('decrypts a %s key file built by hand from the spec', async (kdf) => {
    const path = file(handMadeKeyFile(kdf));
    const config = readKeyFile(path);
    expect(config.created).toBe(1593179765);
    expect(config.modified).toBe(1593179765);
    const { key, fingerprint } = await decryptKey(config, PASSPHRASE, path);
    expect(key.equals(SPEC_KEY)).toBe(true);
    expect(fingerprint).toBe(SPEC_FINGERPRINT);
  });

  it.each(['scrypt', 'pbkdf2', 'none'] as KdfKind[])(
    'a %s key round-trips: PBS key order, compact JSON, mode 0600',
    async (kdf) => {
      const path = join(temp('key'), 'key.json');
      const passphrase = kdf === 'none' ? undefined : PASSPHRASE;
      const hint = kdf === 'none' ? undefined : 'a horse';
      const { key, config } = await createKey({ kdf, passphrase, hint });
      writeKeyFile(path, config, { replace: false });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const text = readFileSync(path, 'utf8');
      expect(text).toBe(keyFileText(config));
      expect(text).not.toContain('\n');
      const json = JSON.parse(text) as Record<string, unknown>;
      expect(Object.keys(json)).toEqual(
        kdf === 'none'
          ? ['kdf', 'created', 'modified', 'data', 'fingerprint']
          : ['kdf', 'created', 'modified', 'data', 'fingerprint', 'hint'],
      );
      expect(json.created).toMatch(RFC3339_LOCAL);
      expect(json.modified).toBe(json.created);
      expect(json.fingerprint).toBe(new CryptConfig(key).fingerprint());
      const data = Buffer.from(json.data as string, 'base64');
      if (kdf === 'none') {
        expect(json.kdf).toBeNull();
        expect(data.equals(key)).toBe(true);
      } else {
        expect(data.length).toBe(64);
        expect(json.hint).toBe('a horse');
        checkKdfShape(kdf, json.kdf);
      }
      const back = await decryptKey(readKeyFile(path), passphrase, path);
      expect(back.key.equals(key)).toBe(true);
    },
  );

  function checkKdfShape(kdf: 'scrypt' | 'pbkdf2', value: unknown): void {
    const inner = (value as Record<string, Record<string, unknown>>)[kdf === 'scrypt' ? 'Scrypt' : 'PBKDF2']!;
    expect(Object.keys(value as object)).toEqual([kdf === 'scrypt' ? 'Scrypt' : 'PBKDF2']);
    if (kdf === 'scrypt') expect(inner).toMatchObject({ n: 65536, r: 8, p: 1 });
    else expect(inner).toMatchObject({ iter: 65535 });
    expect(Object.keys(inner)).toEqual(kdf === 'scrypt' ? ['n', 'r', 'p', 'salt'] : ['iter', 'salt']);
    expect(Buffer.from(inner.salt as string, 'base64').length).toBe(32);
  }

  it('refuses a wrong passphrase (with the hint), a short one, and a key whose fingerprint differs', async () => {
    const path = file(handMadeKeyFile('pbkdf2', ',"hint":"the horse"'));
    const config = readKeyFile(path);
    await expectCode(
      decryptKey(config, Buffer.from('wrong horse'), path),
      'WRONG_PASSPHRASE',
      new RegExp(`cannot decrypt the key in ${path}: wrong passphrase.*\\(passphrase hint: the horse\\)`),
    );
    await expectCode(decryptKey(config, Buffer.from('abcd'), path), 'INVALID_ARGUMENT', /has 4 bytes, at least 5/);
    await expectCode(decryptKey(config, undefined, path), 'INVALID_ARGUMENT', /needs its passphrase/);
    const other = `11${SPEC_FINGERPRINT.slice(2)}`;
    const edited = file(handMadeKeyFile('pbkdf2').replace(SPEC_FINGERPRINT, other.toUpperCase()));
    await expectCode(
      decryptKey(readKeyFile(edited), PASSPHRASE, edited),
      'CORRUPT',
      new RegExp(`${edited} records the fingerprint 11:ab:d4:46:0b:6e:b9:ca, but its key has 0e:ab`),
    );
  });

  it('refuses damaged files, naming them and what is wrong', () => {
    const good = handMadeKeyFile('scrypt');
    const cases: [string, RegExp][] = [
      [good.slice(0, 100), /is not valid JSON/],
      ['[]', /is not a key file Cairn can read/],
      [
        good.replace(/"data":"[^"]*"/, `"data":"${Buffer.alloc(40).toString('base64')}"`),
        /at data: 40 bytes where an encrypted key has 64/,
      ],
      [good.replace(/"data":"[^"]*"/, '"data":"not base64!"'), /at data: not base64/],
      [good.replace(/"created":"[^"]*",?/, ''), /Cairn can read at created: missing$/],
      [
        good.replace('"created":"2020-06-26T15:56:05+02:00"', '"created":"2020-06-26 15:56"'),
        /at created: not an RFC 3339 time/,
      ],
      [good.replace('"n":65536', '"n":65535'), /at kdf/],
      [good.replace('{"Scrypt"', '{"Bcrypt"'), /at kdf/],
      [good.replace(SPEC_FINGERPRINT, '0e:ab'), /at fingerprint: not a 32-byte fingerprint/],
    ];
    for (const [text, message] of cases) {
      const path = file(text);
      const err = expectCairnError(() => readKeyFile(path), 'CORRUPT', message);
      expect(err.message).toContain(path);
    }
    expectCairnError(() => readKeyFile(join(temp('key'), 'none.json')), 'NOT_FOUND', /cairn key create makes one/);
  });

  it('refuses scrypt parameters past PBS memory limit, without trying them', async () => {
    const path = file(handMadeKeyFile('scrypt').replace('"n":65536', `"n":${2 ** 22}`));
    await expectCode(decryptKey(readKeyFile(path), PASSPHRASE, path), 'CORRUPT', /scrypt parameters cannot be used/);
  });

  it('never replaces an existing file unless asked', async () => {
    const dir = temp('key');
    const path = join(dir, 'key.json');
    writeFileSync(path, 'precious');
    const { config } = await createKey({ kdf: 'none' });
    await expectCode(() => writeKeyFile(path, config, { replace: false }), 'ALREADY_EXISTS', /exists already/);
    expect(readFileSync(path, 'utf8')).toBe('precious');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'link.json'));
    await expectCode(() => writeKeyFile(join(dir, 'link.json'), config, { replace: false }), 'ALREADY_EXISTS');
    writeKeyFile(path, config, { replace: true });
    expect(readKeyFile(path).fingerprint).toBe(config.fingerprint);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses to protect a key with a short passphrase, or a hint without one', async () => {
    await expectCode(createKey({ kdf: 'scrypt', passphrase: Buffer.from('1234') }), 'INVALID_ARGUMENT', /too short/);
    await expectCode(createKey({ kdf: 'pbkdf2' }), 'INVALID_ARGUMENT', /passphrase is needed/);
    await expectCode(createKey({ kdf: 'none', hint: 'x' }), 'INVALID_ARGUMENT', /no passphrase hint/);
  });

  it('changes the passphrase: new salt and IV, created kept, modified now, the old hint dropped', async () => {
    const path = file(handMadeKeyFile('scrypt', ',"hint":"old"'));
    const config = readKeyFile(path);
    const { key } = await decryptKey(config, PASSPHRASE, path);
    const now = 1_800_000_000;
    const changed = await changePassphrase(config, key, { kdf: 'pbkdf2', passphrase: Buffer.from('new one') }, now);
    expect(changed).toMatchObject({ created: config.created, modified: now, fingerprint: SPEC_FINGERPRINT });
    expect(changed.hint).toBeUndefined();
    expect(changed.data.equals(config.data)).toBe(false);
    await expectCode(decryptKey(changed, PASSPHRASE, path), 'WRONG_PASSPHRASE');
    expect((await decryptKey(changed, Buffer.from('new one'), path)).key.equals(SPEC_KEY)).toBe(true);
    const bare = await changePassphrase(changed, key, { kdf: 'none' }, now);
    expect(bare.kdf).toBeNull();
    expect(bare.data.equals(SPEC_KEY)).toBe(true);
    await expectCode(changePassphrase(config, Buffer.alloc(32, 9), { kdf: 'none' }), 'INVALID_ARGUMENT', /not the key/);
  });
});
