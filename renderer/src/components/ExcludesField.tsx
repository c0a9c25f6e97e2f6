import { useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { ExcludePreviewResult } from '../../../contract/model.js';
import { errorInfo, type CairnClient } from '../api/client.js';
import { formatBytes, formatCount, plural } from '../../../contract/format.js';
import { useApp } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { LeftOutList } from './PlanBits.js';

/**
 * The backup's exclude patterns, one per line, and a preview of what `patterns` leave out of the folder (the typed
 * ones, or with a plan's presets).
 */
export function ExcludesField({
  excludes,
  onChange,
  source,
  patterns,
  label = 'Exclude (one .gitignore pattern per line)',
}: {
  /** The patterns field's label. */
  label?: string;
  excludes: string;
  onChange(excludes: string): void;
  source: string;
  patterns: string[];
}) {
  const client = useApp((s) => s.client);
  const preview = useExcludePreview(client);
  return (
    <>
      <div className="field">
        <label htmlFor="backup-excludes">{label}</label>
        <textarea
          id="backup-excludes"
          rows={4}
          value={excludes}
          placeholder={'*.tmp\nnode_modules/\n.cache/'}
          spellCheck={false}
          onChange={(e) => {
            onChange(e.target.value);
            preview.reset();
          }}
        />
        <span className="muted small">A .cairnignore file in any folder adds rules for that folder and below.</span>
      </div>
      <button
        type="button"
        onClick={() => void preview.run(source, patterns)}
        disabled={source.trim() === '' || preview.running}
      >
        {preview.running ? 'Scanning…' : 'Preview what is excluded'}
      </button>
      <ErrorNote error={preview.error} />
      {preview.result && <ExcludePreview preview={preview.result} />}
    </>
  );
}

/** Asks the host what the excludes leave out of a folder; the answer is dropped when the patterns change. */
function useExcludePreview(client: CairnClient) {
  const [result, setResult] = useState<ExcludePreviewResult>();
  const [error, setError] = useState<AppErrorInfo>();
  const [running, setRunning] = useState(false);
  const run = async (source: string, patterns: string[]) => {
    setRunning(true);
    try {
      setResult(await client.previewExcludes({ source, patterns }));
      setError(undefined);
    } catch (err) {
      setResult(undefined);
      setError(errorInfo(err));
    } finally {
      setRunning(false);
    }
  };
  return { result, error, running, run, reset: () => setResult(undefined) };
}

/** What would be backed up and what is excluded, with the excluded paths. */
function ExcludePreview({ preview }: { preview: ExcludePreviewResult }) {
  return (
    <div className="preview" aria-label="Exclude preview">
      <p>
        <strong>{`${plural(preview.files, 'file')} (${formatBytes(preview.bytes)})`}</strong>{' '}
        {`would be backed up; ${plural(preview.excluded, 'entry', 'entries')} (${formatBytes(preview.excludedBytes)}) excluded.`}
      </p>
      {preview.paths.length > 0 && (
        <ul className="preview-list">
          {preview.paths.map((p) => (
            <li key={p.path}>
              {p.path}
              {p.isDirectory ? '/' : ''} <span className="muted">{formatBytes(p.bytes)}</span>
            </li>
          ))}
          {preview.truncated && <li className="muted">…and more</li>}
        </ul>
      )}
      {preview.leftOut.count > 0 && <UnreadableEntries leftOut={preview.leftOut} />}
    </div>
  );
}

/** What the backup could not take as things stand (a folder it cannot list, a file it cannot read). */
function UnreadableEntries({ leftOut }: { leftOut: ExcludePreviewResult['leftOut'] }) {
  const shown = leftOut.named.slice(0, 20);
  const more = leftOut.count - shown.length;
  return (
    <div className="left-out-note" role="note" aria-label="Entries that cannot be read">
      <p>
        {`${plural(leftOut.count, 'entry', 'entries')} cannot be read and would be left out of the backup. `}
        Give Cairn read access to {leftOut.count === 1 ? 'it' : 'them'}, or exclude{' '}
        {leftOut.count === 1 ? 'it' : 'them'}.
      </p>
      <LeftOutList named={shown} more={more > 0 ? `…and ${formatCount(more)} more` : ''} />
    </div>
  );
}
