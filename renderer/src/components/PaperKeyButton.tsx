import { useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import { errorInfo } from '../api/client.js';
import { useApp } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { shortKey } from './KeyBadge.js';

/**
 * Saves the printable paper key page (HTML with its QR code) as a file to open and print. The app's window
 * shows no page of its own making (its content security policy), so the page goes through the download.
 */
export function PaperKeyButton({
  fingerprint,
  primary,
  onSaved,
}: {
  fingerprint: string;
  primary?: boolean;
  onSaved?: () => void;
}) {
  const client = useApp((s) => s.client);
  const [error, setError] = useState<AppErrorInfo>();
  const save = async () => {
    try {
      const { html } = await client.paperKey({ fingerprint });
      const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `cairn-paper-key-${shortKey(fingerprint).replaceAll(':', '')}.html`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      onSaved?.();
    } catch (err) {
      setError(errorInfo(err));
    }
  };
  return (
    <>
      <button type="button" className={primary ? 'primary' : undefined} onClick={() => void save()}>
        Save the paper key…
      </button>
      <ErrorNote error={error} />
    </>
  );
}
