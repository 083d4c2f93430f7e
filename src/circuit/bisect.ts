/**
 * Smallest k in [lo, hi] with ok(k), assuming ok is monotone (false ... false true ... true) and ok(hi) holds.
 * Each probe is awaited (a probe runs the model); the abort signal is checked between probes.
 */
export async function bisectSmallest(
  lo: number,
  hi: number,
  ok: (k: number) => Promise<boolean>,
  signal?: AbortSignal,
): Promise<number> {
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo <= hi)) throw new Error(`bisect: bad range [${lo}, ${hi}]`);
  while (lo < hi) {
    signal?.throwIfAborted();
    const mid = Math.floor((lo + hi) / 2);
    if (await ok(mid)) hi = mid;
    else lo = mid + 1;
  }
  return hi;
}
