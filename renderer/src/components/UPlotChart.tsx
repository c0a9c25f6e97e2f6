import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import { chartTheme } from '../charts/chart-theme.js';
import type { ChartSpec } from '../charts/dashboard-charts.js';
import { useChartFrame } from '../hooks/use-chart-frame.js';

/**
 * One uPlot chart (a canvas and its legend), drawn anew when its data, its width or the colour scheme change.
 * `label` says in words what it shows, for those who cannot see it.
 */
export function UPlotChart({ spec, label, height }: { spec: ChartSpec; label: string; height: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const { width, dark } = useChartFrame(ref);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const plot = new uPlot({ ...spec.options(chartTheme()), width, height }, spec.data, el);
    plot.root.querySelector('canvas')?.setAttribute('aria-hidden', 'true');
    return () => plot.destroy();
  }, [spec, width, height, dark]);
  return <div ref={ref} className="chart" role="img" aria-label={label} data-points={spec.data[0].length} />;
}
