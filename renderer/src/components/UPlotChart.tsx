import { useEffect, useRef } from 'react';
import { chartTheme } from '../charts/chart-theme.js';
import type { ChartSpec, UPlotModule } from '../charts/dashboard-charts.js';
import { useChartFrame } from '../hooks/use-chart-frame.js';

/**
 * uPlot, loaded once when the first chart is drawn: only the store overview draws charts, and the library
 * kept the main bundle above Vite's 500 KB warning.
 */
let loading: Promise<UPlotModule> | undefined;
function loadUPlot(): Promise<UPlotModule> {
  loading ??= import('uplot').then((m) => m.default);
  return loading;
}

/**
 * One uPlot chart (a canvas and its legend), drawn anew when its data, its width or the colour scheme change.
 * `label` says in words what it shows, for those who cannot see it.
 */
export function UPlotChart({ spec, label, height }: { spec: ChartSpec; label: string; height: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const { width, dark } = useChartFrame(ref);
  useEffect(() => {
    let plot: { destroy(): void } | undefined;
    let gone = false;
    void loadUPlot().then((uPlot) => {
      const el = ref.current;
      if (gone || !el) return; // unmounted or redrawn while the library loaded
      const drawn = new uPlot({ ...spec.options(chartTheme(), uPlot), width, height }, spec.data, el);
      drawn.root.querySelector('canvas')?.setAttribute('aria-hidden', 'true');
      plot = drawn;
    });
    return () => {
      gone = true;
      plot?.destroy();
    };
  }, [spec, width, height, dark]);
  return <div ref={ref} className="chart" role="img" aria-label={label} data-points={spec.data[0].length} />;
}
