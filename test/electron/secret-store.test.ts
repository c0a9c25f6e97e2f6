import { describe, expect, it, vi } from 'vitest';
import type { SafeStorage } from 'electron';
import { safeStorageSecrets } from '../../electron/secret-store.js';
import { safeStorage } from '../support/electron-mock.js';

vi.mock('electron', async () => (await import('../support/electron-mock.js')).electronMock);

describe('the secret store on safeStorage', () => {
  const secrets = safeStorageSecrets(safeStorage as unknown as SafeStorage, 'linux');

  it('seals bytes so that the sealed form does not hold them, and opens them again', () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
    const sealed = secrets.seal(key);
    expect(sealed.includes(key)).toBe(false);
    expect(sealed.toString()).not.toContain(key.toString('base64'));
    expect(secrets.open(sealed).equals(key)).toBe(true);
    expect(() => secrets.open(Buffer.from('tampered'))).toThrow();
  });

  it("is offered with a keyring, not with Chromium's basic_text fallback on Linux, nor when unavailable", () => {
    expect(secrets.available()).toBe(true);
    safeStorage.getSelectedStorageBackend.mockReturnValueOnce('basic_text').mockReturnValueOnce('basic_text');
    expect(secrets.available()).toBe(false);
    expect(secrets.unavailableReason?.()).toContain('keyring');
    safeStorage.isEncryptionAvailable.mockReturnValueOnce(false);
    expect(secrets.available()).toBe(false);
    // On macOS and Windows the backend is not asked: the keychain and DPAPI protect the key.
    safeStorage.getSelectedStorageBackend.mockReturnValueOnce('basic_text');
    expect(safeStorageSecrets(safeStorage as unknown as SafeStorage, 'darwin').available()).toBe(true);
  });
});
