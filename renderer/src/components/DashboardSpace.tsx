import { formatBytes, plural } from '../../../contract/format.js';
import type { StoreDashboard } from '../../../contract/model.js';
import { useNow } from '../hooks/use-now.js';
import { useApp } from '../state/use-app.js';
import { When } from './PlanBits.js';
import { usageWords } from '../store-size-words.js';

/** The store's size (its last sample) and the free space on its disk, with a bar of how full the disk is. */
export function DashboardSpace({ dashboard }: { dashboard: StoreDashboard | undefined }) {
  const now = useNow();
  const last = dashboard?.sizeHistory.at(-1);
  const usage = useApp((s) => s.storeUsage);
  const disk = dashboard?.disk;
  const usedPercent = disk && disk.totalBytes > 0 ? Math.round((1 - disk.freeBytes / disk.totalBytes) * 100) : 0;
  return (
    <section className="dash-card dash-space" aria-labelledby="dash-space-title">
      <h3 id="dash-space-title">Space</h3>
      <dl className="dash-facts">
        <dt>Store size</dt>
        <dd data-testid="store-size">
          {last ? (
            <>
              <strong>{formatBytes(last.bytes)}</strong> in {plural(last.chunks, 'chunk')}{' '}
              <span className="muted">
                · measured <When at={last.time} now={now} />
              </span>
            </>
          ) : usage ? (
            // No sample kept yet (a new store): the count the store bar made when it opened.
            <>
              <strong>{usageWords(usage)}</strong>{' '}
              <span className="muted">· counted when the store was opened; sampled after each backup and GC</span>
            </>
          ) : (
            <span className="muted">Not measured yet: it is counted after each backup and garbage collection.</span>
          )}
        </dd>
        <dt>Free on its disk</dt>
        <dd data-testid="disk-free">
          {disk ? (
            <>
              <strong>{formatBytes(disk.freeBytes)}</strong> free of {formatBytes(disk.totalBytes)}
            </>
          ) : (
            <span className="muted">Unknown: the host cannot tell for this disk.</span>
          )}
        </dd>
      </dl>
      {disk && (
        <div
          className={`space-bar${usedPercent >= 90 ? ' full' : ''}`}
          role="meter"
          aria-label="Disk used"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={usedPercent}
          aria-valuetext={`${usedPercent}% used`}
        >
          <div className="space-fill" style={{ width: `${usedPercent}%` }} />
        </div>
      )}
    </section>
  );
}
