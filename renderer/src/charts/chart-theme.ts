/** The colours a chart draws with, read from the page's CSS variables (styles.css), so they follow light and dark. */
export interface ChartTheme {
  text: string;
  muted: string;
  grid: string;
  accent: string;
  /** One colour per group, in turn. */
  series: string[];
}

const SERIES_VARS = ['--chart-1', '--chart-2', '--chart-3', '--chart-4', '--chart-5', '--chart-6'];

export function chartTheme(): ChartTheme {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v('--text', '#1d1f21'),
    muted: v('--muted', '#5f6670'),
    grid: v('--line', '#d9dcdf'),
    accent: v('--accent', '#2563eb'),
    series: SERIES_VARS.map((name, i) =>
      v(name, ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2'][i]!),
    ),
  };
}

/** A colour with some transparency, for an area under a line ("#2563eb" → "#2563eb33"). */
export function translucent(color: string, alphaHex = '33'): string {
  return /^#[0-9a-f]{6}$/i.test(color) ? `${color}${alphaHex}` : color;
}
