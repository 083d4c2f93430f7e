/**
 * The AbsTopK selection in plain JS, with no TF.js: hostTopK.ts runs it for the cpu and wasm backends, and the CSR
 * worker pool's threads (csrPool.ts) run it on their share of the rows. The selection is exactly tf.topk's: the k
 * largest |x| of each row, ties going to the lower index.
 */

/**
 * Rank `kth` (0 = largest) of a[lo..hi], found in place: Hoare quickselect, descending, on |x| bit patterns (a float's
 * bits without the sign order like its magnitude). The first pivot is the caller's guess: the previous row's answer,
 * since rows of one site are alike, splits a row close to its k-th at once (about 30% faster than a middle pivot).
 */
function selectDescending(a: Uint32Array, lo: number, hi: number, kth: number, guess: number): number {
  let pivot = guess;
  while (hi > lo) {
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (kth <= j) hi = j;
    else if (kth >= i) lo = i;
    else return a[kth]!;
    pivot = a[(lo + hi) >> 1]!;
  }
  return a[kth]!;
}

/**
 * AbsTopK of each `width`-long row of x (0 < k < width): `values` is x with all but the k largest |x| of each row
 * multiplied by 0 (so -0 and NaN come out as tf.mul(x, mask) gives them), `mask` is 1 where kept.
 */
export function absTopKHost(x: Float32Array, width: number, k: number): { values: Float32Array; mask: Uint8Array } {
  const values = new Float32Array(x.length);
  const mask = new Uint8Array(x.length);
  absTopKRows(x, width, k, 0, x.length / width, values, mask);
  return { values, mask };
}

/**
 * absTopKHost for rows [rowFrom, rowTo) only, written into the caller's arrays: rows are independent, so the CSR
 * worker pool (csrPool.ts) gives each thread a run of rows, with the same result as one call over all of them.
 */
export function absTopKRows(x: Float32Array, width: number, k: number, rowFrom: number, rowTo: number, values: Float32Array, mask: Uint8Array): void {
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const abs = new Uint32Array(width);
  const scratch = new Uint32Array(width);
  let threshold = -1;
  const ties = new Int32Array(width);
  for (let o = rowFrom * width; o < rowTo * width; o += width) {
    for (let j = 0; j < width; j++) abs[j] = bits[o + j]! & 0x7fffffff;
    scratch.set(abs);
    threshold = selectDescending(scratch, 0, width - 1, k - 1, threshold >= 0 ? threshold : abs[width >> 1]!);
    // One pass, without branches on the data (a quarter of entries is kept, at random places): keep = 1 above the
    // threshold (the sign bit of threshold - |x|), and x * keep is tf.mul(x, mask) bit for bit (-0 and NaN included).
    // Entries equal to the threshold are noted, and as many as still fit are kept from the left, as tf.topk does.
    let above = 0;
    let tied = 0;
    for (let j = 0; j < width; j++) {
      const a = abs[j]!;
      const keep = (threshold - a) >>> 31;
      mask[o + j] = keep;
      values[o + j] = x[o + j]! * keep;
      above += keep;
      if (a === threshold) ties[tied++] = j;
    }
    for (let t = 0; t < k - above; t++) {
      const j = o + ties[t]!;
      mask[j] = 1;
      values[j] = x[j]!;
    }
  }
}
