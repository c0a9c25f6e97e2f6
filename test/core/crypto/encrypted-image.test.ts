import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { ENCRYPTED_KEY_BLOB, createMasterKeyPair, recoverKeyWithMaster } from '../../../core/crypto/master-key.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { masterKeyBlobOf } from '../../../core/datastore/snapshot-key.js';
import { KeyRequiredError } from '../../../core/errors.js';
import { backupImage } from '../../../core/image/image-backup.js';
import { restoreImage } from '../../../core/image/image-restore.js';
import { verify } from '../../../core/verify/verify.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { expectCairnError } from '../../support/errors.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';

const MiB = 1024 * 1024;

describe('encrypted image backups', () => {
  const temp = useTempDirs();

  /** An image of random data with an all-zero stretch of two chunks in the middle (a hole when restored). */
  async function setup(): Promise<{ store: Datastore; image: string; data: Buffer; dir: string }> {
    const dir = temp('enc-img', storeTempRoot());
    const store = await Datastore.create(join(dir, 'store'), { syncLevel: 'none', chunkSize: MiB });
    const data = Buffer.concat([
      pseudoRandomBytes(3 * MiB, 'img-a'),
      Buffer.alloc(2 * MiB),
      pseudoRandomBytes(MiB + 77, 'b'),
    ]);
    const image = join(dir, 'disk.img');
    writeFileSync(image, data);
    return { store, image, data, dir };
  }

  it('backs up and restores byte for byte with the key, zero chunks included, and refuses without it', async () => {
    const { store, image, data, dir } = await setup();
    const crypt = new CryptConfig(randomBytes(32));
    const result = await backupImage(store, image, { crypt });
    const manifest = store.readManifest(result.snapshot);
    expect(manifest.files[0]).toMatchObject({ filename: 'disk.img.fidx', 'crypt-mode': 'encrypt' });
    const out = join(dir, 'restored.img');
    const restored = await restoreImage(store, result.snapshot, out, { crypt });
    expect(restored.damaged).toEqual([]);
    expect(readFileSync(out).equals(data)).toBe(true);
    await expect(restoreImage(store, result.snapshot, join(dir, 'x.img'))).rejects.toBeInstanceOf(KeyRequiredError);
    // Unchanged: every chunk is known under the key, nothing new is written.
    const again = await backupImage(store, image, { crypt });
    expect(again.newChunks).toBe(0);
    expect((await verify(store, { snapshot: again.snapshot }, { keys: [crypt] })).ok).toBe(true);
  });

  it('stores the key for a master key, which recovers it from the snapshot alone', async () => {
    const { store, image, data, dir } = await setup();
    const crypt = new CryptConfig(randomBytes(32));
    const master = await createMasterKeyPair(Buffer.from('master secret'), 3072);
    const { encryptKeyForMaster } = await import('../../../core/crypto/master-key.js');
    const masterKeyBlob = await encryptKeyForMaster(crypt.rawKey(), 1_700_000_000, master.publicPem, 'master.pem');
    const { snapshot } = await backupImage(store, image, { crypt, masterKeyBlob });
    const manifest = store.readManifest(snapshot);
    expect(manifest.files.find((f) => f.filename === ENCRYPTED_KEY_BLOB)?.['crypt-mode']).toBe('encrypt');

    const payload = masterKeyBlobOf(store, snapshot);
    const what = { blob: 'the blob', masterKey: 'master-private.pem' };
    const recovered = recoverKeyWithMaster(payload, master.privatePem, Buffer.from('master secret'), what);
    expect(recovered.fingerprint).toBe(crypt.fingerprint());
    expect(recovered.created).toBe(1_700_000_000);
    const out = join(dir, 'recovered.img');
    await restoreImage(store, snapshot, out, { crypt: new CryptConfig(recovered.data) });
    expect(readFileSync(out).equals(data)).toBe(true);

    expectCairnError(
      () => recoverKeyWithMaster(payload, master.privatePem, Buffer.from('not it'), what),
      'WRONG_PASSPHRASE',
      /master-private.pem/,
    );
    const stranger = await createMasterKeyPair(Buffer.from('other secret'), 3072);
    expectCairnError(
      () => recoverKeyWithMaster(payload, stranger.privatePem, Buffer.from('other secret'), what),
      'WRONG_KEY',
      /not encrypted with the master key/,
    );
    // A backup made without a master key has nothing to recover from.
    const plain = await backupImage(store, image, { crypt });
    expectCairnError(() => masterKeyBlobOf(store, plain.snapshot), 'NOT_FOUND', /without a master public key/);
  });

  it('refuses a master public key that is not RSA of 3072 bits or more', async () => {
    const { encryptKeyForMaster } = await import('../../../core/crypto/master-key.js');
    const { generateKeyPairSync } = await import('node:crypto');
    const small = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' });
    await expect(encryptKeyForMaster(randomBytes(32), 0, String(small), 'small.pem')).rejects.toThrow(
      /small.pem is not an RSA key of at least 3072 bits/,
    );
    await expect(encryptKeyForMaster(randomBytes(32), 0, 'not a pem', 'junk.pem')).rejects.toThrow(
      /junk.pem is not a PEM public key/,
    );
  });
});
