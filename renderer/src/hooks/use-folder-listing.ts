import { useEffect, useRef, useState, type RefObject } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { FolderListing } from '../../../contract/model.js';
import { errorInfo, type CairnClient } from '../api/client.js';
import type { FolderRequest } from '../state/app-state.js';

export interface FolderListingState {
  listing: FolderListing | undefined;
  error: AppErrorInfo | undefined;
  /** The path field's text, and what typing in it does. */
  typed: string;
  type(text: string): void;
  field: RefObject<HTMLInputElement | null>;
  /** The file chosen in the listing (when a file is asked for). */
  chosenFile: string | undefined;
  chooseFile(path: string): void;
  hidden: boolean;
  /** Lists a folder (the host's start folder without a path), or with `make` makes that folder in it first. */
  go(path?: string, showHidden?: boolean, make?: string): Promise<boolean>;
  showHidden(show: boolean): void;
}

/**
 * What the folder browser shows: the host's listing of one folder, asked for again as the user goes elsewhere, and
 * the path field beside it. Opened by a new request at the folder (or file) it names.
 */
export function useFolderListing(client: CairnClient, request: FolderRequest | undefined): FolderListingState {
  const [listing, setListing] = useState<FolderListing>();
  const [error, setError] = useState<AppErrorInfo>();
  const [typed, setTyped] = useState('');
  const [chosenFile, setChosenFile] = useState<string>();
  const [hidden, setHidden] = useState(false);
  const typedNow = useRef('');
  const field = useRef<HTMLInputElement>(null);
  const wantsFile = request?.mode === 'file';
  const type = (text: string) => {
    typedNow.current = text;
    setTyped(text);
  };

  // Only the newest listing counts: the first one (asked for on open) may answer after the user already went on.
  const latest = useRef(0);
  const go = async (path?: string, showHidden = hidden, make?: string) => {
    const asked = ++latest.current;
    const typedWhenAsked = typedNow.current;
    try {
      const files = wantsFile ? { files: true } : {};
      const next =
        make !== undefined && path
          ? await client.makeFolder({ parent: path, name: make, ...files })
          : await client.listFolder({ ...(path ? { path } : {}), ...files, ...(showHidden ? { hidden: true } : {}) });
      if (asked !== latest.current) return false;
      setListing(next);
      // A file asked for by its path (the field's value when the browser opened) is chosen in its folder.
      setChosenFile((chosen) => next.files?.find((f) => f.path === path || f.path === chosen)?.path);
      // The field shows where the listing is, unless the user typed in it while the listing was on its way or is
      // in it now: text replaced under the cursor mixes with what they type next ("/home/ann" + "/data").
      if (typedNow.current === typedWhenAsked && document.activeElement !== field.current) type(next.path);
      setError(undefined);
      return true;
    } catch (err) {
      if (asked === latest.current) setError(errorInfo(err));
      return false;
    }
  };
  useEffect(() => {
    if (!request) return;
    // The field opens with focus in it, so no listing will fill it: it starts at the folder asked for instead.
    type(request.startPath ?? '');
    setChosenFile(undefined);
    void go(request.startPath || undefined);
  }, [request]); // only when a new request opens the browser

  const showHidden = (show: boolean) => {
    setHidden(show);
    if (listing) void go(listing.path, show);
  };
  return { listing, error, typed, type, field, chosenFile, chooseFile: setChosenFile, hidden, go, showHidden };
}
