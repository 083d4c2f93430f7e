/**
 * What the pair list shows of a contrast pair. The two prompts of a pair usually differ in a character or two (a quote,
 * a bracket) and are long, so a column shows each prompt's end, where the next token is predicted, with the
 * characters that differ from the other prompt marked; when the difference lies before that end, a short window
 * around the last difference is shown first, then the end.
 */
export interface Segment { text: string; diff: boolean }

/** Per character of `a`: does it differ from `b`? Same length: position by position; else the span between the
 *  common prefix and the common suffix. */
export function diffMask(a: string, b: string): boolean[] {
  if (a.length === b.length) return [...a].map((c, i) => c !== b[i]);
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  return [...a].map((_, i) => i >= p && i < a.length - s);
}

function segments(text: string, mask: readonly boolean[], from: number, to: number): Segment[] {
  const out: Segment[] = [];
  for (let i = from; i < to; i++) {
    const last = out.at(-1);
    if (last && last.diff === mask[i]) last.text += text[i];
    else out.push({ text: text[i]!, diff: mask[i]! });
  }
  return out;
}

const ELLIPSIS: Segment = { text: '…', diff: false };

/** The shown part of `text` (whose other prompt is `other`), at most about `width` characters. */
export function promptEnd(text: string, other: string, width = 24): Segment[] {
  const mask = diffMask(text, other);
  const start = Math.max(0, text.length - width);
  const lastDiff = mask.lastIndexOf(true);
  if (lastDiff >= 0 && lastDiff < start) {
    // The difference is outside the end: a window around it, then the end.
    const tail = Math.max(4, width - 12);
    const from = Math.max(0, lastDiff - 6);
    const to = Math.min(lastDiff + 4, text.length - tail);
    const gap = to < text.length - tail ? [ELLIPSIS] : [];
    return [...(from > 0 ? [ELLIPSIS] : []), ...segments(text, mask, from, to), ...gap, ...segments(text, mask, text.length - tail, text.length)];
  }
  return [...(start > 0 ? [ELLIPSIS] : []), ...segments(text, mask, start, text.length)];
}
