import { useMemo } from 'react';
import { formatBytes, plural } from '../../../contract/format.js';
import type { ActivityPoint, StoreDashboard, UsageSample } from '../../../contract/model.js';
import { groupsOf, newBytesChart, sizeChart } from '../charts/dashboard-charts.js';
import { UPlotChart } from './UPlotChart.js';

const HEIGHT = 220;

/** The store's size over time, from its samples; an empty state before the first. */
export function SizeChart({ samples }: { samples: UsageSample[] }) {
  const spec = useMemo(() => sizeChart(samples), [samples]);
  const first = samples[0];
  const last = samples.at(-1);
  return (
    <section className="dash-card dash-chart" aria-labelledby="size-chart-title">
      <h3 id="size-chart-title">Store size over time</h3>
      {first && last ? (
        <UPlotChart
          spec={spec}
          height={HEIGHT}
          label={`Store size over time: ${plural(samples.length, 'sample')}, from ${formatBytes(first.bytes)} to ${formatBytes(last.bytes)}`}
        />
      ) : (
        <p className="muted chart-empty">
          No size measured yet: a point is added after each backup and garbage collection.
        </p>
      )}
    </section>
  );
}

/** How many new bytes each recent snapshot added, its bar coloured by its group; an empty state before any. */
export function NewBytesChart({ points }: { points: ActivityPoint[] }) {
  const measured = useMemo(() => points.filter((p) => p.newBytes !== undefined), [points]);
  const spec = useMemo(() => newBytesChart(measured), [measured]);
  const last = measured.at(-1);
  return (
    <section className="dash-card dash-chart" aria-labelledby="new-bytes-title">
      <h3 id="new-bytes-title">New bytes per snapshot</h3>
      {last ? (
        <UPlotChart
          spec={spec}
          height={HEIGHT}
          label={`New bytes per snapshot: ${plural(measured.length, 'snapshot')} in ${plural(groupsOf(measured).length, 'group')}, the latest ${formatBytes(last.newBytes)}`}
        />
      ) : (
        <p className="muted chart-empty">No snapshots yet: each backup adds a bar of the data it stored anew.</p>
      )}
    </section>
  );
}

/** Both charts, from the dashboard's figures (none yet while it loads: the empty states). */
export function DashboardCharts({ dashboard }: { dashboard: StoreDashboard | undefined }) {
  return (
    <>
      <SizeChart samples={dashboard?.sizeHistory ?? NONE_SAMPLES} />
      <NewBytesChart points={dashboard?.activity ?? NONE_POINTS} />
    </>
  );
}

const NONE_SAMPLES: UsageSample[] = [];
const NONE_POINTS: ActivityPoint[] = [];
