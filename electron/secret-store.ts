import type { SafeStorage } from 'electron';
import type { SecretStore } from '../host/remembered-keys.js';

/**
 * Electron's safeStorage as the host's secret store: keys sealed with the OS keychain (Keychain, DPAPI, libsecret
 * or KWallet). On Linux without a keychain safeStorage falls back to a fixed password ("basic_text"), which
 * protects nothing: remembering is then not offered. Before the app is ready nothing is available.
 */
export function safeStorageSecrets(
  safeStorage: Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'> &
    Partial<Pick<SafeStorage, 'getSelectedStorageBackend'>>,
  platform: NodeJS.Platform = process.platform,
): SecretStore {
  const available = (): boolean => {
    if (!safeStorage.isEncryptionAvailable()) return false;
    if (platform !== 'linux') return true;
    const backend = safeStorage.getSelectedStorageBackend?.() ?? 'unknown';
    return backend !== 'basic_text' && backend !== 'unknown';
  };
  return {
    available,
    // safeStorage seals strings: the key goes in as base64, which never leaves this process unsealed.
    seal: (bytes) => safeStorage.encryptString(bytes.toString('base64')),
    open: (sealed) => Buffer.from(safeStorage.decryptString(sealed), 'base64'),
  };
}
