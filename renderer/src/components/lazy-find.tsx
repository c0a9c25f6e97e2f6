import { lazy, Suspense } from 'react';
import { useApp } from '../state/use-app.js';

// The search pane and the file dialogs load when first shown: the window's first script stays small
// (test/build/renderer-bundle).
const SearchPaneLazy = lazy(() => import('./SearchPane.js').then((m) => ({ default: m.SearchPane })));
const FindDialogsLazy = lazy(() => import('./FindDialogs.js').then((m) => ({ default: m.FindDialogs })));

/** The search pane in the store's middle pane. */
export function SearchPaneLoader() {
  return (
    <Suspense
      fallback={
        <section className="search-pane" aria-busy="true">
          <p className="muted">Loading…</p>
        </section>
      }
    >
      <SearchPaneLazy />
    </Suspense>
  );
}

/** History, preview and the restore to the original place, once one of them is asked for. */
export function FindDialogsLoader() {
  const asked = useApp((s) => s.historyOf !== undefined || s.previewOf !== undefined || s.inPlaceOf !== undefined);
  if (!asked) return null;
  return (
    <Suspense fallback={null}>
      <FindDialogsLazy />
    </Suspense>
  );
}
