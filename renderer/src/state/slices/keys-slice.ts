import type { AppErrorInfo } from '../../../../contract/errors.js';
import type { KeyInfo, KeyList } from '../../../../contract/keys.js';
import { errorInfo } from '../../api/client.js';
import type { SliceCreator } from '../app-state.js';

/** The question "unlock this key?", open while an action waits for the answer. */
export interface UnlockRequest {
  fingerprint: string;
  resolve(unlocked: boolean): void;
}

/** The key wizard, open while whoever opened it (a backup dialog, the keys list) waits for the new key. */
export interface KeyWizardRequest {
  resolve(key: KeyInfo | undefined): void;
}

/**
 * Encryption keys as the renderer knows them: the host's list (never a key: the host keeps those), the unlock
 * prompt, the key wizard and the keys dialog.
 */
export interface KeysSlice {
  keyList?: KeyList;
  keysError?: AppErrorInfo;
  keysOpen: boolean;
  unlockRequest?: UnlockRequest;
  keyWizard?: KeyWizardRequest;
  /** Where the last paper key was saved (the desktop app), to say so. */
  paperKeySaved?: string;
  refreshKeys(): Promise<KeyList | undefined>;
  openKeys(): void;
  closeKeys(): void;
  /** Asks the user to unlock the key; resolves true once it is unlocked, false if they dismissed the question. */
  askToUnlock(fingerprint: string): Promise<boolean>;
  finishUnlock(unlocked: boolean): void;
  openKeyWizard(): Promise<KeyInfo | undefined>;
  finishKeyWizard(key: KeyInfo | undefined): void;
  lockKey(fingerprint: string): Promise<void>;
  forgetRememberedKey(fingerprint: string): Promise<void>;
  /** The printable paper key: a new tab in browser mode, the save dialog in the desktop app. */
  openPaperKey(fingerprint: string): Promise<void>;
}

export const createKeysSlice: SliceCreator<KeysSlice> = (set, get, client) => {
  /** Runs a key action and takes the list it answers with; an error is shown in the keys dialog. */
  const update = async (action: () => Promise<KeyList>) => {
    try {
      set({ keyList: await action(), keysError: undefined });
    } catch (err) {
      set({ keysError: errorInfo(err) });
    }
  };
  return {
    keysOpen: false,

    async refreshKeys() {
      try {
        const keyList = await client.listKeys({});
        set({ keyList, keysError: undefined });
        return keyList;
      } catch (err) {
        set({ keysError: errorInfo(err) });
        return undefined;
      }
    },

    openKeys() {
      set({ keysOpen: true, paperKeySaved: undefined });
      void get().refreshKeys();
    },

    closeKeys() {
      set({ keysOpen: false });
    },

    askToUnlock(fingerprint) {
      get().unlockRequest?.resolve(false);
      void get().refreshKeys();
      return new Promise((resolve) => set({ unlockRequest: { fingerprint, resolve } }));
    },

    finishUnlock(unlocked) {
      const request = get().unlockRequest;
      set({ unlockRequest: undefined });
      request?.resolve(unlocked);
      if (unlocked) void get().refreshKeys();
    },

    openKeyWizard() {
      get().keyWizard?.resolve(undefined);
      void get().refreshKeys();
      return new Promise((resolve) => set({ keyWizard: { resolve } }));
    },

    finishKeyWizard(key) {
      const wizard = get().keyWizard;
      set({ keyWizard: undefined });
      wizard?.resolve(key);
      void get().refreshKeys();
    },

    lockKey: (fingerprint) => update(() => client.lockKey({ fingerprint })),
    forgetRememberedKey: (fingerprint) => update(() => client.forgetRememberedKey({ fingerprint })),

    async openPaperKey(fingerprint) {
      const url = client.paperKeyUrl(fingerprint);
      if (url) {
        window.open(url, '_blank', 'noopener');
        return;
      }
      try {
        const saved = await client.savePaperKey({ fingerprint });
        if (saved) set({ paperKeySaved: saved, keysError: undefined });
      } catch (err) {
        set({ keysError: errorInfo(err) });
      }
    },
  };
};
