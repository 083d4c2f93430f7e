/** A number as the pruning CLI prints it: `d` decimals, or as it is when not finite (NaN, Infinity). */
export function fmt(x: number, d = 3): string {
  return Number.isFinite(x) ? x.toFixed(d) : String(x);
}
