import { useEffect, useId, useState } from 'react';
import type { SearchQuery } from '../../../contract/find.js';
import { NO_FIELDS, searchQuery, type SearchFields } from '../search-form.js';

/** Typing waits this long before it searches: a search per key would start and stop threads for nothing. */
const TYPING_MS = 350;

/**
 * The search form: a name or pattern, and optional sizes and days. A change searches again after a pause (the
 * host stops the search it replaces); Enter searches at once.
 */
export function SearchForm({ initial, onSearch }: { initial?: SearchQuery; onSearch(query: SearchQuery): void }) {
  const [fields, setFields] = useState<SearchFields>({ ...NO_FIELDS, pattern: initial?.pattern ?? '' });
  const [typed, setTyped] = useState(false);
  const id = useId();
  const parsed = searchQuery(fields);
  const query = 'query' in parsed ? parsed.query : undefined;
  const key = JSON.stringify(query ?? null);
  useEffect(() => {
    if (!typed || !query) return;
    const timer = setTimeout(() => onSearch(query), TYPING_MS);
    return () => clearTimeout(timer);
  }, [key, typed]);
  const field = (name: keyof SearchFields) => ({
    value: fields[name],
    onChange: (e: { target: { value: string } }) => {
      setFields({ ...fields, [name]: e.target.value });
      setTyped(true);
    },
  });
  return (
    <form
      className="search-form"
      role="search"
      aria-label="Search files"
      onSubmit={(e) => {
        e.preventDefault();
        setTyped(false);
        if (query) onSearch(query);
      }}
    >
      <label className="search-name">
        Name
        {/* Opened by "Search files…": typing goes here at once. */}
        <input
          type="search"
          placeholder="report, *.pdf, photos/*.jpg"
          spellCheck={false}
          autoFocus
          {...field('pattern')}
        />
      </label>
      <label>
        At least
        <input className="search-size" placeholder="e.g. 10M" {...field('minSize')} />
      </label>
      <label>
        At most
        <input className="search-size" placeholder="e.g. 1G" {...field('maxSize')} />
      </label>
      <label>
        Modified on or after
        <input type="date" {...field('after')} />
      </label>
      <label>
        Modified before
        <input type="date" {...field('before')} />
      </label>
      <button type="submit" className="primary" disabled={!query} aria-describedby={`${id}-error`}>
        Search
      </button>
      {'error' in parsed && fields.pattern.trim() !== '' && (
        <span id={`${id}-error`} className="field-error" role="alert">
          {parsed.error}
        </span>
      )}
    </form>
  );
}
