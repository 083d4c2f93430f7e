import { useRef, useState, type FocusEvent, type KeyboardEvent } from 'react';

/**
 * Roving tabindex: a long list of buttons (test pairs, prompt tokens) is one Tab stop, and the arrow keys move inside
 * it. Without it, reaching the graph took one Tab per pair and per token (253 presses on a 100-pair task).
 */

/** Where a key moves the focus in a grid of `count` items, `cols` per row; null when the key is not ours. */
export function rovingStep(index: number, key: string, count: number, cols = 1): number | null {
  if (count <= 0) return null;
  const row = (n: number) => n * cols;
  let next: number;
  switch (key) {
    case 'ArrowLeft': next = index - 1; break;
    case 'ArrowRight': next = index + 1; break;
    case 'ArrowUp': next = index - cols; break;
    case 'ArrowDown': next = index + cols; break;
    case 'PageUp': next = index - row(10); break;
    case 'PageDown': next = index + row(10); break;
    case 'Home': next = 0; break;
    case 'End': next = count - 1; break;
    default: return null;
  }
  // Up/down past either end stay in the same column rather than jumping to another one.
  if (next < 0) next = key === 'ArrowLeft' ? 0 : index % cols;
  const col = index % cols;
  if (next >= count) next = key === 'ArrowRight' ? count - 1 : col + cols * Math.floor((count - 1 - col) / cols);
  return next;
}

/**
 * State for one roving group. Items carry `data-roving` and take `tabIndex={tabIndex(i)}`; the group's element takes
 * `ref`, `onKeyDown` and `onFocus`. The Tab stop is the item last focused (by key or click), else `selected`, else the
 * first: Tab into the group lands where the user was.
 */
export function useRoving<T extends HTMLElement>(count: number, selected: number, cols = 1) {
  const ref = useRef<T>(null);
  const [cursor, setCursor] = useState<number | null>(null);
  const at = cursor !== null && cursor < count ? cursor : selected >= 0 && selected < count ? selected : 0;
  const items = () => [...(ref.current?.querySelectorAll<HTMLElement>('[data-roving]') ?? [])];
  const onKeyDown = (e: KeyboardEvent<T>) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const list = items();
    const here = list.indexOf(e.target as HTMLElement);
    const next = rovingStep(here >= 0 ? here : at, e.key, list.length, cols);
    if (next === null) return;
    e.preventDefault();
    setCursor(next);
    list[next]?.focus();
  };
  const onFocus = (e: FocusEvent<T>) => {
    const i = items().indexOf(e.target as HTMLElement);
    if (i >= 0 && i !== cursor) setCursor(i);
  };
  return { ref, onKeyDown, onFocus, tabIndex: (i: number) => (i === at ? 0 : -1) };
}
