import { useEffect, useState, type RefObject } from 'react';

/** The width a chart has to draw in, a fallback until it is laid out (tests, a hidden pane). */
const FALLBACK_WIDTH = 480;

/**
 * What a chart is drawn for: its element's width (followed as the window resizes) and the colour scheme (the
 * OS's light or dark), so it is drawn again when either changes.
 */
export function useChartFrame(ref: RefObject<HTMLElement | null>): { width: number; dark: boolean } {
  const [width, setWidth] = useState(FALLBACK_WIDTH);
  const [dark, setDark] = useState(() => darkQuery()?.matches ?? false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.floor(el.clientWidth) || FALLBACK_WIDTH);
    measure();
    const observer = typeof ResizeObserver === 'undefined' ? undefined : new ResizeObserver(measure);
    observer?.observe(el);
    return () => observer?.disconnect();
  }, [ref]);
  useEffect(() => {
    const query = darkQuery();
    if (!query) return;
    const onChange = () => setDark(query.matches);
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, []);
  return { width, dark };
}

function darkQuery(): MediaQueryList | undefined {
  return typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : undefined;
}
