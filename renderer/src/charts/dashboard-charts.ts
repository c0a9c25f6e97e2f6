import type uPlot from 'uplot';
import { formatBytes, formatTime } from '../../../contract/format.js';
import type { ActivityPoint, UsageSample } from '../../../contract/model.js';
import { translucent, type ChartTheme } from './chart-theme.js';

/** The uPlot module: loaded with the first chart (UPlotChart), so the app's main bundle does not carry it. */
export type UPlotModule = typeof uPlot;

/**
 * What one uPlot chart draws: its data and its options for a theme (the width and height are added to them),
 * made with the loaded module (its path builders).
 */
export interface ChartSpec {
  data: uPlot.AlignedData;
  options(theme: ChartTheme, lib: UPlotModule): Omit<uPlot.Options, 'width' | 'height'>;
}

const axis = (theme: ChartTheme, extra: uPlot.Axis = {}): uPlot.Axis => ({
  stroke: theme.muted,
  grid: { stroke: theme.grid, width: 1 },
  ticks: { stroke: theme.grid, width: 1 },
  ...extra,
});

/**
 * Steps of a power of two of a binary unit: ticks at 256 MiB, 512 MiB, 768 MiB, 1.00 GiB, never at 191 MiB (2e8
 * bytes) nor at "1000 MiB" beside "1.46 GiB" (steps of 500 MiB).
 */
const BYTE_STEPS = [1, 1024, 1024 ** 2, 1024 ** 3, 1024 ** 4].flatMap((unit) =>
  [1, 2, 4, 8, 16, 32, 64, 128, 256, 512].map((m) => m * unit),
);

/** Room right of the plot for half of the last time label ("12-08 03:30"), which is centred on its tick. */
const RIGHT_PAD = 40;

const bytesAxis = (theme: ChartTheme): uPlot.Axis =>
  axis(theme, { size: 76, incrs: BYTE_STEPS, values: (_u, splits) => splits.map((v) => formatBytes(v)) });

/** Tick labels with a repeat of the one before left empty (snapshots made within a minute share it). */
export function withoutRepeats(labels: string[]): string[] {
  return labels.map((label, i) => (i > 0 && label === labels[i - 1] ? '' : label));
}

/** The store's size over time: a line with the area under it, one point per sample. */
export function sizeChart(samples: UsageSample[]): ChartSpec {
  const data: uPlot.AlignedData = [samples.map((s) => s.time / 1000), samples.map((s) => s.bytes)];
  // One sample: around it, not uPlot's own guess (the day after it, the point at the edge). Else what uPlot
  // asks for: the samples' span, or the part a drag selected.
  const single = samples.length === 1 ? samples[0]!.time / 1000 : undefined;
  return {
    data,
    options: (theme) => ({
      padding: [null, RIGHT_PAD, null, null],
      scales: {
        x: {
          time: true,
          range: (_u, min, max) => (single === undefined ? atLeastAnHour(min, max) : atLeastAnHour(single, single)),
        },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [axis(theme, { space: 110, values: (_u, splits) => splits.map(shortTime) }), bytesAxis(theme)],
      series: [
        { label: 'Time', value: (_u, v) => (v == null ? '–' : formatTime(v)) },
        {
          label: 'Store size',
          stroke: theme.accent,
          width: 2,
          fill: translucent(theme.accent),
          points: { show: samples.length < 60, size: 6, fill: theme.accent },
          value: (_u, v) => formatBytes(v ?? undefined),
        },
      ],
    }),
  };
}

/** A time range of samples made seconds apart (two backups in a row) widened to an hour, so its ticks are minutes. */
function atLeastAnHour(min: number, max: number): [number, number] {
  const pad = Math.max(0, 3600 - (max - min)) / 2;
  return [min - pad, max + pad];
}

/** An axis tick in the app's way of writing times, without the year and seconds: "11-24 21:03". */
function shortTime(epochSeconds: number): string {
  return formatTime(epochSeconds).slice(5, 16);
}

/** The groups among the points, in the order they first appear. */
export function groupsOf(points: ActivityPoint[]): string[] {
  return [...new Set(points.map((p) => p.group))];
}

/** New bytes per snapshot: one bar each, in time order, coloured by its group (one series per group). */
export function newBytesChart(points: ActivityPoint[]): ChartSpec {
  const groups = groupsOf(points);
  const xs = points.map((_p, i) => i);
  const ys = groups.map((g) => points.map((p) => (p.group === g ? (p.newBytes ?? null) : null)));
  const when = (i: number) => points[Math.round(i)]?.time;
  return {
    data: [xs, ...ys],
    options: (theme, lib) => ({
      scales: {
        x: { time: false, range: [-0.5, Math.max(points.length - 0.5, 0.5)] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        axis(theme, {
          space: 90,
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500],
          values: (_u, splits) =>
            withoutRepeats(
              splits.map((i) => {
                const t = Number.isInteger(i) ? when(i) : undefined;
                return t === undefined ? '' : shortTime(t);
              }),
            ),
        }),
        bytesAxis(theme),
      ],
      series: [
        { label: 'Snapshot', value: (_u, i) => (i == null ? '–' : formatTime(when(i))) },
        ...groups.map((g, k) => ({
          label: g,
          stroke: theme.series[k % theme.series.length],
          fill: theme.series[k % theme.series.length],
          width: 0,
          paths: lib.paths.bars!({ size: [0.7, 48], align: 0 }),
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v == null ? '–' : formatBytes(v)),
        })),
      ],
    }),
  };
}
