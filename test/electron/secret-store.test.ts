import type { SafeStorage } from 'electron';
import { beforeEach, describe, expect, it } from 'vitest';
import { safeStorageSecrets } from '../../electron/secret-store.js';
import { safeStorage } from '../support/electron-mock.js';

describe('the desktop app seals remembered keys with safeStorage', () => {
  const storage = safeStorage as unknown as SafeStorage;
  beforeEach(() => {
    safeStorage.isEncryptionAvailable.mockReturnValue(true);
    safeStorage.getSelectedStorageBackend.mockReturnValue('gnome_libsecret');
  });

  it('round-trips key bytes, and what it stores is not the key', () => {
    const secrets = safeStorageSecrets(storage, 'linux');
    const key = Buffer.from([...Array(32).keys()]);
    const sealed = secrets.seal(key);
    expect(sealed.includes(key)).toBe(false);
    expect(sealed.toString()).not.toContain(key.toString('base64'));
    expect(secrets.open(sealed).equals(key)).toBe(true);
    expect(() => secrets.open(Buffer.from('not sealed'))).toThrow();
  });

  it('is not available before the app is ready, or on Linux without a keychain (basic_text)', () => {
    expect(safeStorageSecrets(storage, 'linux').available()).toBe(true);
    safeStorage.getSelectedStorageBackend.mockReturnValue('basic_text');
    expect(safeStorageSecrets(storage, 'linux').available()).toBe(false);
    expect(safeStorageSecrets(storage, 'darwin').available()).toBe(true);
    safeStorage.isEncryptionAvailable.mockReturnValue(false);
    expect(safeStorageSecrets(storage, 'darwin').available()).toBe(false);
  });
});
