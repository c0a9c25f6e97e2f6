import { plural } from '../../../contract/format.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import type { SearchSession } from '../state/slices/find-slice.js';
import { ErrorNote } from './ErrorNote.js';
import { SearchForm } from './SearchForm.js';
import { SearchResults } from './SearchResults.js';

/** Where a search stands, in one line: "Searching… 2 of 40 snapshots, 12 found", "12 found in 40 snapshots". */
export function searchStatus(s: SearchSession): string {
  const found = plural(s.hits.length, 'match', 'matches');
  const of = `${s.snapshotsDone} of ${plural(s.snapshotsTotal, 'snapshot')}`;
  switch (s.state) {
    case 'idle':
      return s.snapshot ? 'Search this snapshot by name.' : 'Search every snapshot of the group by name.';
    case 'starting':
      return 'Searching…';
    case 'running':
      return `Searching… ${of}, ${found}`;
    case 'done':
      return `${found} in ${plural(s.snapshotsTotal, 'snapshot')}${s.truncated ? ' (the first ones: narrow the search to see the rest)' : ''}`;
    case 'cancelled':
      return `Stopped after ${of}: ${found}`;
    case 'failed':
      return `The search failed after ${of}`;
  }
}

/** A search of the group's snapshots (or of one): the form, how far it got, and the matches as they come in. */
export function SearchPane() {
  const { search, startSearch, cancelSearch, hideSearch, closeSearch } = useAppShallow((s) => ({
    search: s.search!,
    startSearch: s.startSearch,
    cancelSearch: s.cancelSearch,
    hideSearch: s.hideSearch,
    closeSearch: s.closeSearch,
  }));
  const browsing = useApp((s) => s.browsing);
  const running = search.state === 'starting' || search.state === 'running';
  const where = search.snapshot ?? search.group;
  return (
    <section className="search-pane" aria-labelledby="search-title">
      <div className="pane-header">
        <button type="button" onClick={search.snapshot && browsing ? hideSearch : closeSearch}>
          {search.snapshot && browsing ? '← Snapshot' : '← Snapshots'}
        </button>
        <h2 id="search-title">Search in {where}</h2>
      </div>
      <SearchForm
        key={search.group + (search.snapshot ?? '')}
        initial={search.query}
        onSearch={(q) => void startSearch(q)}
      />
      <div className="search-status" role="status" aria-live="polite">
        <span>{searchStatus(search)}</span>
        {running && (
          <button type="button" onClick={cancelSearch}>
            Stop
          </button>
        )}
      </div>
      {search.unreadable && search.unreadable.length > 0 && (
        <p className="note small">
          {plural(search.unreadable.length, 'snapshot')} could not be read: {search.unreadable[0]!.message}
        </p>
      )}
      <ErrorNote error={search.error} />
      <SearchResults hits={search.hits} />
    </section>
  );
}
