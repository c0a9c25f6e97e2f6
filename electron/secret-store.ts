import type { SafeStorage } from 'electron';
import type { SecretStore } from '../host/remembered-keys.js';

/**
 * The host's secret store on Electron's safeStorage (the macOS keychain, DPAPI on Windows, libsecret or KWallet
 * on Linux). Where Linux has no keyring, safeStorage falls back to "basic_text", a fixed key compiled into
 * Chromium: that protects nothing, so remembering is then not offered. The raw key travels as base64 text
 * because safeStorage seals strings.
 */
export function safeStorageSecrets(safeStorage: SafeStorage, platform = process.platform): SecretStore {
  const weak = () => platform === 'linux' && safeStorage.getSelectedStorageBackend?.() === 'basic_text';
  return {
    available: () => safeStorage.isEncryptionAvailable() && !weak(),
    unavailableReason: () =>
      weak()
        ? 'no system keyring (such as GNOME Keyring or KWallet) is running, so a remembered key would not be protected'
        : 'the system keychain cannot be used now',
    seal: (bytes) => safeStorage.encryptString(bytes.toString('base64')),
    open: (sealed) => Buffer.from(safeStorage.decryptString(sealed), 'base64'),
  };
}
