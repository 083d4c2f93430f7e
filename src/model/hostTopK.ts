/**
 * AbsTopK computed in plain JS, for the backends whose tensors live in host memory (cpu, wasm). TF.js's topk +
 * scatterND build of the keep-mask (absTopK.ts) costs several times as much there, and AbsTopK runs at up to eight
 * locations of every layer at every position: on wasm it was the largest part of a forward pass. The selection is
 * exactly tf.topk's: the k largest |x| of each row, ties going to the lower index.
 */

let enabled = true;

/** Measurements only (scripts/measure-task-eval.ts): off, TF.js's topk runs in its place, to time what this buys. */
export function setHostTopK(on: boolean): void {
  enabled = on;
}

/** Whether AbsTopK runs here: on backends where reading a tensor synchronously is a copy from host memory. */
export function hostTopKOn(backend: string): boolean {
  return enabled && (backend === 'cpu' || backend === 'wasm');
}

/** Rank `kth` (0 = largest) of a[lo..hi], found in place (Hoare quickselect, descending). */
function selectDescending(a: Uint32Array, lo: number, hi: number, kth: number): number {
  while (hi > lo) {
    const pivot = a[(lo + hi) >> 1]!;
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
  }
  return a[kth]!;
}

/**
 * The k-th largest of a row of |x| bit patterns. A float's bits without the sign order like its magnitude, so integer
 * comparisons do, and two histogram passes (exponent, then the top mantissa bits within the k-th's exponent) leave a
 * handful of candidates for the quickselect: about twice as fast as selecting over the whole row.
 */
function kthLargest(abs: Uint32Array, width: number, k: number, hist: Int32Array, cand: Uint32Array): number {
  hist.fill(0);
  for (let j = 0; j < width; j++) hist[abs[j]! >>> 23]!++;
  let bucket = 255;
  let above = 0;
  while (above + hist[bucket]! < k) above += hist[bucket--]!;
  let need = k - above; // rank of the k-th within its bucket, from 1
  let n = 0;
  for (let j = 0; j < width; j++) if (abs[j]! >>> 23 === bucket) cand[n++] = abs[j]!;
  if (n > 16) {
    hist.fill(0);
    for (let j = 0; j < n; j++) hist[(cand[j]! >>> 15) & 255]!++;
    let sub = 255;
    while (hist[sub]! < need) need -= hist[sub--]!;
    let m = 0;
    for (let j = 0; j < n; j++) if (((cand[j]! >>> 15) & 255) === sub) cand[m++] = cand[j]!;
    n = m;
  }
  return selectDescending(cand, 0, n - 1, need - 1);
}

/**
 * AbsTopK of each `width`-long row of x (0 < k < width): `values` is x with all but the k largest |x| of each row
 * multiplied by 0 (so -0 and NaN come out as tf.mul(x, mask) gives them), `mask` is 1 where kept.
 */
export function absTopKHost(x: Float32Array, width: number, k: number): { values: Float32Array; mask: Uint8Array } {
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const values = new Float32Array(x.length);
  const mask = new Uint8Array(x.length);
  const abs = new Uint32Array(width);
  const cand = new Uint32Array(width);
  const hist = new Int32Array(256);
  for (let o = 0; o < x.length; o += width) {
    for (let j = 0; j < width; j++) abs[j] = bits[o + j]! & 0x7fffffff;
    const threshold = kthLargest(abs, width, k, hist, cand);
    let above = 0;
    for (let j = 0; j < width; j++) {
      if (abs[j]! > threshold) {
        mask[o + j] = 1;
        above++;
      }
    }
    let ties = k - above; // entries equal to the threshold that still fit, taken from the left as tf.topk does
    for (let j = 0; ties > 0 && j < width; j++) {
      if (abs[j] === threshold) {
        mask[o + j] = 1;
        ties--;
      }
    }
    for (let j = o; j < o + width; j++) values[j] = mask[j] ? x[j]! : x[j]! * 0;
  }
  return { values, mask };
}

/** The keep-mask alone, as float32 (1 kept, 0 dropped). */
export function absTopKMaskHost(x: Float32Array, width: number, k: number): Float32Array {
  return Float32Array.from(absTopKHost(x, width, k).mask);
}
