import { useApp } from '../state/use-app.js';
import { HistoryDialog } from './HistoryDialog.js';
import { InPlaceDialog } from './InPlaceDialog.js';
import { PreviewDialog } from './PreviewDialog.js';

/** The dialogs that start from a file, over whichever view opened them (the preview and restore over the history). */
export function FindDialogs() {
  const historyOf = useApp((s) => s.historyOf);
  const previewOf = useApp((s) => s.previewOf);
  const inPlaceOf = useApp((s) => s.inPlaceOf);
  const hasStore = useApp((s) => s.store !== undefined);
  if (!hasStore) return null;
  return (
    <>
      {historyOf !== undefined && <HistoryDialog key={historyOf} path={historyOf} />}
      {previewOf && <PreviewDialog key={`${previewOf.snapshot.time}\0${previewOf.path}`} target={previewOf} />}
      {inPlaceOf && <InPlaceDialog key={`${inPlaceOf.snapshot.time}\0${inPlaceOf.path}`} target={inPlaceOf} />}
    </>
  );
}
