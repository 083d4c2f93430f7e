/**
 * Values written the way train/openai_import writes them in its messages and notes (Python's json.dumps and
 * repr), so a note made here reads exactly as the Python importer's note for the same file.
 */

/** json.dumps with its default separators (", " and ": "). */
export function pyJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`).join(', ')}}`;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return v === undefined ? 'null' : JSON.stringify(v);
}

/** repr of a str: single quotes unless the text holds one and no double quote. */
export function pyStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  return q + s.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), `\\${q}`).replace(/\n/g, '\\n') + q;
}

/** repr of a list of str. */
export const pyStrList = (items: readonly string[]) => `[${items.map(pyStr).join(', ')}]`;

/** common.listed: 'a, b, c' or 'a, ..., h and 4 more'. */
export function listed(items: readonly unknown[], most = 8): string {
  const s = items.map(String);
  return s.slice(0, most).join(', ') + (s.length > most ? ` and ${s.length - most} more` : '');
}

/** common.shape_str: "[2,3]". */
export const shapeStr = (shape: readonly number[]) => `[${shape.join(',')}]`;
