import { lazy, Suspense } from 'react';

// The plans and keys views load when first shown: the window's first script stays small
// (test/build/renderer-bundle).
const PlansViewLazy = lazy(() => import('./PlansView.js').then((m) => ({ default: m.PlansView })));
const KeysViewLazy = lazy(() => import('./KeysView.js').then((m) => ({ default: m.KeysView })));

function Loading({ className, label }: { className: string; label: string }) {
  return (
    <main className={className} aria-label={label} aria-busy="true">
      <p className="muted">Loading…</p>
    </main>
  );
}

export function PlansViewLoader() {
  return (
    <Suspense fallback={<Loading className="plans-view" label="Backup plans" />}>
      <PlansViewLazy />
    </Suspense>
  );
}

export function KeysViewLoader() {
  return (
    <Suspense fallback={<Loading className="keys-view" label="Keys" />}>
      <KeysViewLazy />
    </Suspense>
  );
}
