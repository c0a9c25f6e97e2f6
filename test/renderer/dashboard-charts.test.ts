import type uPlot from 'uplot';
import { describe, expect, it } from 'vitest';
import { newBytesChart, sizeChart, type UPlotModule } from '../../renderer/src/charts/dashboard-charts.js';

const THEME = { text: '#000', muted: '#666', grid: '#ddd', accent: '#25f', series: ['#25f'] };
const T = Date.UTC(2026, 11, 7, 23, 15, 55);

type Sample = { time: number; bytes: number; chunks: number };

/** The x range for what uPlot asks (by default the samples' span; for one sample its guess, the day after it). */
function xRange(samples: Sample[], asked?: [number, number]): [number, number] {
  const options = sizeChart(samples).options(THEME, {} as UPlotModule);
  const range = options.scales!.x!.range as (u: uPlot, min: number, max: number) => [number, number];
  const [min, max] = asked ?? [
    samples[0]!.time / 1000,
    samples.length === 1 ? samples[0]!.time / 1000 + 86_400 : samples.at(-1)!.time / 1000,
  ];
  return range({} as uPlot, min, max);
}

describe("the store size chart's time axis", () => {
  it('puts a single sample in the middle of an hour, not at the edge of the day after it', () => {
    expect(xRange([{ time: T, bytes: 1843, chunks: 12 }])).toEqual([T / 1000 - 1800, T / 1000 + 1800]);
  });

  it('spans the samples, widened to an hour when they are close together', () => {
    const two = [
      { time: T, bytes: 1, chunks: 1 },
      { time: T + 600_000, bytes: 2, chunks: 2 },
    ];
    expect(xRange(two)).toEqual([T / 1000 - 1500, T / 1000 + 2100]);
    const apart = [two[0]!, { time: T + 86_400_000, bytes: 2, chunks: 2 }];
    expect(xRange(apart)).toEqual([T / 1000, T / 1000 + 86_400]);
    // A drag selects a part: that part is shown (at least an hour of it).
    expect(xRange(apart, [T / 1000 + 7200, T / 1000 + 18_000])).toEqual([T / 1000 + 7200, T / 1000 + 18_000]);
  });
});

describe("the charts' tick labels", () => {
  const lib = { paths: { bars: () => () => null } } as unknown as UPlotModule;

  it('names a minute once under bars of snapshots made within it', () => {
    const at = (s: number) => ({ time: T / 1000 + s, group: 'host/a', size: 1, newBytes: 1 });
    const options = newBytesChart([at(5), at(25), at(45), at(3605)]).options(THEME, lib);
    const values = options.axes![0]!.values as (u: uPlot, splits: number[]) => string[];
    const labels = values({} as uPlot, [0, 1, 2, 3]);
    expect(labels[0]).toMatch(/^\d\d-\d\d \d\d:\d\d$/);
    expect(labels.slice(1, 3)).toEqual(['', '']);
    expect(labels[3]).not.toBe('');
    expect(labels[3]).not.toBe(labels[0]);
  });

  it('puts byte ticks on powers of two of a binary unit (256 MiB, 1.00 GiB; not 191 MiB nor 1000 MiB)', () => {
    const options = sizeChart([{ time: T, bytes: 800 * 1024 ** 2, chunks: 1 }]).options(THEME, lib);
    const incrs = options.axes![1]!.incrs as number[];
    expect(incrs).toContain(256 * 1024 ** 2);
    expect(incrs).not.toContain(2e8);
    expect(incrs).not.toContain(500 * 1024 ** 2);
    expect([...incrs].sort((a, b) => a - b)).toEqual(incrs);
  });
});
