import { errorInfo } from '../../api/client.js';
import type { AppState, SetState, SliceCreator } from '../app-state.js';

/** A question to the user that resolves with a folder (or a file), asked by the in-app folder browser (browser mode). */
export interface FolderRequest {
  title: string;
  startPath?: string;
  /** 'file': the browser lists files too and answers with the one chosen (a disk image to back up). */
  mode: 'folder' | 'file';
  resolve(path: string | null): void;
}

/** The backup dialog's start: a folder (from a drop or the button) or a disk image. */
export interface BackupDraft {
  kind: 'folder' | 'image';
  source: string;
  droppedName?: string;
}

/** The backup dialogs and the folder picker, which several views open. */
export interface DialogsSlice {
  /** The backup dialog, opened by a drop or a button. */
  backupDraft?: BackupDraft;
  folderRequest?: FolderRequest;
  openBackupDialog(source?: string, droppedName?: string): void;
  openImageBackupDialog(): void;
  /** A folder was dropped before any store was open: say what to do first. */
  noStoreForDrop(droppedName: string): void;
  closeBackupDialog(): void;
  pickFolder(title: string, startPath?: string): Promise<string | null>;
  pickFile(title: string, startPath?: string): Promise<string | null>;
}

export const createDialogsSlice: SliceCreator<DialogsSlice> = (set, get) => ({
  openBackupDialog(source = '', droppedName) {
    set({ backupDraft: { kind: 'folder', source, droppedName } });
  },

  openImageBackupDialog() {
    set({ backupDraft: { kind: 'image', source: '' } });
  },

  noStoreForDrop(droppedName) {
    set({
      storeError: {
        code: 'INVALID_ARGUMENT',
        message: `To back up “${droppedName}”, open or create a datastore first, then drop it on the window again.`,
      },
    });
  },

  closeBackupDialog() {
    set({ backupDraft: undefined });
  },

  async pickFolder(title, startPath) {
    return pickPath(get, set, 'folder', title, startPath);
  },

  async pickFile(title, startPath) {
    return pickPath(get, set, 'file', title, startPath);
  },
});

/** Asks for a folder or a file: with the native dialog where the host has one (Electron), else the in-app browser. */
async function pickPath(
  get: () => AppState,
  set: SetState,
  mode: FolderRequest['mode'],
  title: string,
  startPath?: string,
): Promise<string | null> {
  const { client, info } = get();
  if (info?.nativeDialogs) {
    try {
      const defaultPath = startPath || undefined;
      return await (mode === 'file'
        ? client.pickFile({ title, defaultPath })
        : client.pickFolder({ title, defaultPath }));
    } catch (err) {
      set({ jobError: errorInfo(err) });
      return null;
    }
  }
  return new Promise((resolve) => {
    set({
      folderRequest: {
        title,
        startPath,
        mode,
        resolve: (path) => {
          set({ folderRequest: undefined });
          resolve(path);
        },
      },
    });
  });
}
