import { useEffect, useMemo, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import { PREVIEW_TEXT_BYTES, type FilePreview } from '../../../contract/find.js';
import { formatBytes, formatTime } from '../../../contract/format.js';
import { errorInfo } from '../api/client.js';
import { downloadEntry } from '../download.js';
import { fromBase64, hexDump } from '../hex-dump.js';
import type { EntryTarget } from '../state/slices/find-slice.js';
import { useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';

/**
 * A file of a snapshot to look at: a text's start, an image, or a binary's first bytes in hex. The host reads and
 * verifies the bytes as for a download; the page shows them from memory (an image by a blob: URL), never from disk.
 */
export function PreviewDialog({ target }: { target: EntryTarget }) {
  const { client, store, openPreview, nativeDialogs } = useAppShallow((s) => ({
    client: s.client,
    store: s.store!.path,
    openPreview: s.openPreview,
    nativeDialogs: s.info?.nativeDialogs ?? false,
  }));
  const [preview, setPreview] = useState<FilePreview>();
  const [error, setError] = useState<AppErrorInfo>();
  useEffect(() => {
    let live = true;
    client.previewFile({ store, snapshot: target.snapshot, path: target.path }).then(
      (p) => live && setPreview(p),
      (err: unknown) => live && setError(errorInfo(err)),
    );
    return () => {
      live = false;
    };
  }, [client, store, target.snapshot.time, target.path]);
  const close = () => openPreview(undefined);
  const name = target.path.slice(target.path.lastIndexOf('/') + 1);
  return (
    <Modal title={`Preview of ${name}`} wide className="preview-dialog" onClose={close}>
      <p className="muted small">
        {target.path} in the snapshot of {formatTime(target.snapshot.time)}
        {preview && ` · ${formatBytes(preview.size)}`}
      </p>
      <ErrorNote error={error} />
      {!preview && !error && <p className="muted">Reading…</p>}
      {preview && <PreviewBody preview={preview} />}
      <footer className="modal-footer">
        <button
          type="button"
          onClick={() =>
            downloadEntry(client, store, target.snapshot, target.path, name).catch((e: unknown) =>
              setError(errorInfo(e)),
            )
          }
        >
          {nativeDialogs ? 'Save as…' : 'Download'}
        </button>
        <button type="button" onClick={close}>
          Close
        </button>
      </footer>
    </Modal>
  );
}

function PreviewBody({ preview }: { preview: FilePreview }) {
  switch (preview.kind) {
    case 'text':
      return (
        <>
          {preview.truncated && <p className="muted small">The first {formatBytes(PREVIEW_TEXT_BYTES)} of the text:</p>}
          <pre className="preview-text" tabIndex={0} aria-label="Text">
            {preview.text}
          </pre>
        </>
      );
    case 'image':
      return <ImagePreview data={preview.data} mime={preview.mime} name={preview.name} />;
    case 'image-too-large':
      return (
        <p className="note">This image is {formatBytes(preview.size)}: too large to preview. Download it to see it.</p>
      );
    case 'binary':
      return (
        <>
          <p className="muted small">
            Not text or an image{preview.truncated ? `; its first ${formatBytes(fromBase64(preview.data).length)}` : ''}{' '}
            in hex:
          </p>
          <pre className="preview-hex" tabIndex={0} aria-label="Hex">
            {hexDump(fromBase64(preview.data))}
          </pre>
        </>
      );
  }
}

/** The image from its bytes by a blob: URL (the page's CSP allows blob: images), released when it closes. */
function ImagePreview({ data, mime, name }: { data: string; mime: string; name: string }) {
  const url = useMemo(
    () => URL.createObjectURL(new Blob([fromBase64(data) as BlobPart], { type: mime })),
    [data, mime],
  );
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return (
    <div className="preview-image">
      <img src={url} alt={name} />
    </div>
  );
}
