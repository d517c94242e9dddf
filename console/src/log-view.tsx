import type { LogLine } from '@preview-service/client';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

/** Every row has this height (px, as in console.css), so the visible rows follow from the scroll offset. */
const rowHeight = 18;
/** Rows rendered above and below the visible ones, so that scrolling shows no gap. */
const overscan = 10;

function timeOf(timestamp: string): string {
  return timestamp.slice(11, 23);
}

/**
 * A virtualised list: only the rows in view are in the DOM, positioned in a spacer as tall as all
 * the lines. It follows the newest line while scrolled to the bottom, and stays put otherwise.
 */
export function LogView({ lines, version }: { lines: readonly LogLine[]; version: number }) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(360);
  const following = useRef(true);

  useEffect(() => {
    const element = scroller.current;
    if (!element) return undefined;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  // After each batch: keep the newest line in view when following.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element || !following.current) return;
    element.scrollTop = element.scrollHeight;
    setScrollTop(element.scrollTop);
  }, [version]);

  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    following.current = element.scrollTop + element.clientHeight >= element.scrollHeight - rowHeight;
    setScrollTop(element.scrollTop);
  };

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(lines.length, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  const rows = [];
  for (let index = first; index < last; index += 1) {
    const line = lines[index] as LogLine;
    rows.push(
      <div
        key={line.cursor}
        class={`log-row level-${line.level}`}
        style={{ transform: `translateY(${index * rowHeight}px)` }}
      >
        <span class="log-time">{timeOf(line.timestamp)}</span>
        <span class="log-level">{line.level}</span>
        <span class="log-source">{line.source}</span>
        <span class="log-message">{line.message}</span>
      </div>,
    );
  }
  return (
    <div class="log-view" ref={scroller} onScroll={onScroll} data-testid="log-view">
      <div class="log-spacer" style={{ height: `${lines.length * rowHeight}px` }}>
        {rows}
      </div>
    </div>
  );
}
