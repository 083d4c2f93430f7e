import { useState, type CSSProperties, type KeyboardEvent, type PointerEvent, type ReactNode } from 'react';

const KEY = 'explorer.columns';

function saved(): [number, number] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? 'null') as unknown;
    if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && x >= 200 && x <= 900)) return v as [number, number];
  } catch { /* a corrupt value just means the default layout */ }
  return [340, 380];
}

/** Three resizable columns (left panel stack, graph, right panel stack); widths persist across visits. Below 1280 px
 *  the right stack moves under the left one (explorer.css) so the graph keeps its width. */
export function Columns({ left, center, right }: { left: ReactNode; center: ReactNode; right: ReactNode }) {
  const [widths, setWidths] = useState<[number, number]>(saved);
  const update = (next: [number, number]) => {
    const clamped = next.map((w) => Math.min(900, Math.max(200, w))) as [number, number];
    setWidths(clamped);
    localStorage.setItem(KEY, JSON.stringify(clamped));
  };
  const splitter = (side: 0 | 1) => {
    const onDown = (e: PointerEvent<HTMLDivElement>) => {
      const el = e.currentTarget;
      el.setPointerCapture(e.pointerId);
      const x0 = e.clientX;
      const w0 = widths;
      el.onpointermove = (ev) => {
        const dx = ev.clientX - x0;
        update(side === 0 ? [w0[0] + dx, w0[1]] : [w0[0], w0[1] - dx]);
      };
      el.onpointerup = () => { el.onpointermove = null; };
    };
    const onKey = (e: KeyboardEvent) => {
      const step = e.key === 'ArrowLeft' ? -20 : e.key === 'ArrowRight' ? 20 : 0;
      if (!step) return;
      e.preventDefault();
      update(side === 0 ? [widths[0] + step, widths[1]] : [widths[0], widths[1] - step]);
    };
    return (
      <div className={`splitter s${side}`} role="separator" aria-orientation="vertical" tabIndex={0} aria-label={side === 0 ? 'Resize left column' : 'Resize right column'}
        aria-valuenow={widths[side]} aria-valuemin={200} aria-valuemax={900} onPointerDown={onDown} onKeyDown={onKey} />
    );
  };
  return (
    // Widths as CSS variables, not a grid template: explorer.css rearranges the columns on narrow screens.
    <main className="columns" style={{ '--left': `${widths[0]}px`, '--right': `${widths[1]}px` } as CSSProperties}>
      <div className="column left">{left}</div>
      {splitter(0)}
      <div className="column center">{center}</div>
      {splitter(1)}
      <div className="column right">{right}</div>
    </main>
  );
}
