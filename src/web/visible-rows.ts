/**
 * Which rows of a long list are on screen (the page scrolls, the list is part of it), so
 * only those are in the DOM: 1,000 sessions cost the layout of the few dozen in view.
 * Rows have one fixed height; spacers stand in for the others.
 */
import type { RefObject } from 'preact';
import { useLayoutEffect, useState } from 'preact/hooks';

export interface RowRange {
  start: number;
  end: number;
}

export function useVisibleRows(ref: RefObject<HTMLElement | null>, count: number, rowHeight: number, overscan = 10): RowRange {
  const [range, setRange] = useState<RowRange>({ start: 0, end: Math.min(count, 30) });
  // Before the browser paints: the first frame already has the right rows.
  useLayoutEffect(() => {
    let frame = 0;
    const update = (): void => {
      frame = 0;
      const el = ref.current;
      if (!el) return;
      const top = el.getBoundingClientRect().top;
      const start = Math.max(0, Math.min(count, Math.floor(-top / rowHeight) - overscan));
      const end = Math.max(start, Math.min(count, Math.ceil((innerHeight - top) / rowHeight) + overscan));
      setRange((r) => (r.start === start && r.end === end ? r : { start, end }));
    };
    const schedule = (): void => {
      frame ||= requestAnimationFrame(update);
    };
    update();
    addEventListener('scroll', schedule, { passive: true });
    addEventListener('resize', schedule, { passive: true });
    return () => {
      cancelAnimationFrame(frame);
      removeEventListener('scroll', schedule);
      removeEventListener('resize', schedule);
    };
  }, [count, rowHeight, overscan]);
  return { start: Math.min(range.start, count), end: Math.min(range.end, count) };
}
