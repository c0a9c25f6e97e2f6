import type uPlot from 'uplot';
import { describe, expect, it } from 'vitest';
import { sizeChart, type UPlotModule } from '../../renderer/src/charts/dashboard-charts.js';

const THEME = { text: '#000', muted: '#666', grid: '#ddd', accent: '#25f', series: ['#25f'] };
const T = Date.UTC(2026, 11, 7, 23, 15, 55);

function xRange(samples: { time: number; bytes: number; chunks: number }[]): [number, number] {
  const options = sizeChart(samples).options(THEME, {} as UPlotModule);
  const range = options.scales!.x!.range as (u: uPlot, min: number, max: number) => [number, number];
  // uPlot's own guess for one sample: the day after it.
  return range({} as uPlot, T / 1000, T / 1000 + 86_400);
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
  });
});
