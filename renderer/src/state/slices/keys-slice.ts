import type { AppErrorInfo } from '../../../../contract/errors.js';
import type { KeyRing, KeyRow } from '../../../../contract/keys.js';
import { errorInfo } from '../../api/client.js';
import type { SliceCreator } from '../app-state.js';

/** The unlock prompt: the key an action needs, and how the waiting action learns the outcome. */
export interface KeyPromptRequest {
  fingerprint?: string;
  resolve(unlocked: boolean): void;
}

/** The key wizard, opened from the backup dialog or the keys view; resolves with the new key (none: cancelled). */
export interface KeyWizardRequest {
  resolve(key: KeyRow | undefined): void;
}

/**
 * Encryption keys as the host keeps them (the renderer never holds key bytes, and a passphrase only while it is
 * typed): the key ring, the unlock prompt any action answering KEY_REQUIRED opens, the key wizard, the keys view.
 */
export interface KeysSlice {
  keyRing?: KeyRing;
  keysError?: AppErrorInfo;
  keyPrompt?: KeyPromptRequest;
  keyWizard?: KeyWizardRequest;
  keysOpen: boolean;
  refreshKeys(): Promise<KeyRing | undefined>;
  /** Shows the unlock prompt; resolves true once the key is unlocked. */
  askForKey(fingerprint: string | undefined): Promise<boolean>;
  /** Unlocks; throws the host's refusal (a wrong passphrase) for the prompt to show. */
  unlockKey(req: { fingerprint?: string; path?: string; passphrase?: string; remember?: boolean }): Promise<KeyRow>;
  lockKey(fingerprint: string, forget?: boolean): Promise<void>;
  /** Keeps the key unlocked for now, but no longer across restarts. */
  forgetRememberedKey(fingerprint: string): Promise<void>;
  /** Creates a key; throws the host's refusal for the wizard to show. */
  createKey(req: { path?: string; passphrase: string; hint?: string }): Promise<KeyRow>;
  openKeyWizard(): Promise<KeyRow | undefined>;
  /** Picks a key file (a PBS or cairn one) and adds it to the known ones, locked. */
  addKeyFile(): Promise<void>;
  openKeys(): void;
  closeKeys(): void;
}

export const createKeysSlice: SliceCreator<KeysSlice> = (set, get, client) => ({
  keysOpen: false,

  async refreshKeys() {
    try {
      const keyRing = await client.listKeys({});
      set({ keyRing, keysError: undefined });
      return keyRing;
    } catch (err) {
      set({ keysError: errorInfo(err) });
      return undefined;
    }
  },

  askForKey(fingerprint) {
    // One prompt at a time: a second action needing the same key waits on the one shown.
    const shown = get().keyPrompt;
    void get().refreshKeys();
    return new Promise((resolve) => {
      const settle = (unlocked: boolean) => {
        if (get().keyPrompt === request) set({ keyPrompt: undefined });
        shown?.resolve(unlocked);
        resolve(unlocked);
      };
      const request: KeyPromptRequest = { fingerprint, resolve: settle };
      set({ keyPrompt: request });
    });
  },

  async unlockKey(req) {
    const row = await client.unlockKey(req);
    await get().refreshKeys();
    return row;
  },

  async forgetRememberedKey(fingerprint) {
    try {
      await client.forgetRememberedKey({ fingerprint });
    } catch (err) {
      set({ keysError: errorInfo(err) });
    }
    await get().refreshKeys();
  },

  async lockKey(fingerprint, forget) {
    try {
      await client.lockKey({ fingerprint, forget });
    } catch (err) {
      set({ keysError: errorInfo(err) });
    }
    await get().refreshKeys();
  },

  async createKey(req) {
    const row = await client.createKey(req);
    await get().refreshKeys();
    return row;
  },

  openKeyWizard() {
    return new Promise((resolve) => {
      set({
        keyWizard: {
          resolve: (key) => {
            set({ keyWizard: undefined });
            resolve(key);
          },
        },
      });
    });
  },

  async addKeyFile() {
    const path = await get().pickFile('Key file to add');
    if (path === null) return;
    try {
      await client.addKey({ path });
      set({ keysError: undefined });
    } catch (err) {
      set({ keysError: errorInfo(err) });
      return;
    }
    await get().refreshKeys();
  },

  openKeys() {
    set({ keysOpen: true, plansOpen: false, remotesOpen: false });
    void get().refreshKeys();
  },

  closeKeys() {
    set({ keysOpen: false });
  },
});
