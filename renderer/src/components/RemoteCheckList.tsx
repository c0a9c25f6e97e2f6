import type { RemoteCheckResult } from '../../../contract/remotes.js';
import { plural } from '../../../contract/format.js';
import { CAPABILITY_WORDS } from '../remote-words.js';

/** A remote check's outcome: each probe with what it found, and in one line whether Cairn can use the remote. */
export function RemoteCheckList({ result }: { result: RemoteCheckResult }) {
  const missing = result.capabilities.filter((c) => !c.ok);
  // A bucket that did not answer is not a missing feature: nothing else could be probed, and the reason says why.
  const unreached = missing.find((c) => c.name === 'bucket');
  return (
    <div className={`remote-check ${result.ok ? 'ok' : 'missing'}`} role="status" aria-label="Check result">
      <p className="remote-check-summary">
        {result.ok
          ? `Everything Cairn needs works (${plural(result.requests, 'request')}).`
          : unreached
            ? `Cairn cannot use this remote: ${unreached.detail}`
            : `Missing: ${missing.map((c) => CAPABILITY_WORDS[c.name].toLowerCase()).join(', ')}.`}
      </p>
      {!unreached && (
        <ul>
          {result.capabilities.map((c) => (
            <li key={c.name} data-ok={c.ok}>
              <span aria-hidden="true">{c.ok ? '✔' : '✘'}</span> <strong>{CAPABILITY_WORDS[c.name]}</strong>
              <span className="muted small"> {c.detail}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
