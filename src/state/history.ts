/**
 * Undo/redo over immutable values: every edit makes a new `present` and pushes the old one onto `past`, so undo is
 * a pointer move and nothing is ever mutated in place (the intervention list shared with the worker stays valid).
 */
export interface History<T> {
  past: readonly T[];
  present: T;
  future: readonly T[];
}

/** Most steps kept; older ones are dropped so a long session cannot grow without bound. */
const LIMIT = 500;

export function initHistory<T>(present: T): History<T> {
  return { past: [], present, future: [] };
}

/** A new present; identical values (by reference) are not recorded. */
export function commit<T>(h: History<T>, next: T): History<T> {
  if (next === h.present) return h;
  const past = [...h.past, h.present];
  return { past: past.length > LIMIT ? past.slice(past.length - LIMIT) : past, present: next, future: [] };
}

export function undo<T>(h: History<T>): History<T> {
  if (h.past.length === 0) return h;
  return { past: h.past.slice(0, -1), present: h.past[h.past.length - 1]!, future: [h.present, ...h.future] };
}

export function redo<T>(h: History<T>): History<T> {
  if (h.future.length === 0) return h;
  return { past: [...h.past, h.present], present: h.future[0]!, future: h.future.slice(1) };
}

/** Back to `initial` as one undoable step. */
export function reset<T>(h: History<T>, initial: T): History<T> {
  return commit(h, initial);
}
