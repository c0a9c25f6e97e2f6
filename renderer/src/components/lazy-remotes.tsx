import { lazy, Suspense } from 'react';
import type { PushRequest } from './PushDialog.js';

// The remote views load when first shown: the window's first script stays small (test/build/renderer-bundle).
const RemotesViewLazy = lazy(() => import('./RemotesView.js').then((m) => ({ default: m.RemotesView })));
const RemotePaneLazy = lazy(() => import('./RemotePane.js').then((m) => ({ default: m.RemotePane })));
const PushDialogLazy = lazy(() => import('./PushDialog.js').then((m) => ({ default: m.PushDialog })));

function Loading({ className }: { className: string }) {
  return (
    <section className={className} aria-busy="true">
      <p className="muted">Loading…</p>
    </section>
  );
}

/** Settings › Remotes. */
export function RemotesViewLoader() {
  return (
    <Suspense fallback={<Loading className="remotes-view" />}>
      <RemotesViewLazy />
    </Suspense>
  );
}

/** A remote's group (its snapshots there, or one browsed) in the store's middle pane. */
export function RemotePaneLoader() {
  return (
    <Suspense fallback={<Loading className="snapshots" />}>
      <RemotePaneLazy />
    </Suspense>
  );
}

/** "Push to remote…" for a snapshot, a group or the store. */
export function PushDialogLoader(props: { request: PushRequest; onClose(): void }) {
  return (
    <Suspense fallback={null}>
      <PushDialogLazy {...props} />
    </Suspense>
  );
}
