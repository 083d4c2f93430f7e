import type { SparseGpt } from './forward';
import { DEFAULT_MEANS_WINDOW_TOKENS, DEFAULT_MEANS_WINDOWS } from './siteMeansDefaults';
import { allSites, siteWidth, type SiteName } from './sites';
import { tf } from './tfjs';

/**
 * Every hook site's per-channel mean over a token corpus, as train/reference_runs.py `compute_means` computes it (the
 * means that mean ablation replaces a node with): n windows of T tokens, evenly spaced
 * (stride = max(1, (len - T) // n), window i = tokens[i*stride : i*stride + T]), every site recorded at every
 * position of every window, summed in float64 and divided by the number of tokens the windows hold (n*T).
 *
 * The window length and count are chosen as train/openai_import/tokenizer_means.py `means_from_corpus` chooses them
 * (it shortens compute_means' window through `_window_tokens`): T = min(window tokens, block_size) and
 * n = min(windows, len - T); a corpus of fewer than T + 1 tokens is refused rather than run on shorter windows, so
 * every mean is over windows of the same length, as the importer's are.
 */


/** Records of all sites the host reads back per batch, at most (the batch shrinks to fit; one window at least). */
const RECORD_BYTES_PER_BATCH = 32 * 2 ** 20;
/** Windows per forward pass at most (the importer's batch for corpus means). */
const MAX_BATCH_WINDOWS = 16;

export class SiteMeansError extends Error {
  override name = 'SiteMeansError';
}

export interface MeansWindows {
  /** Tokens per window (T). */
  windowTokens: number;
  /** Number of windows (n). */
  windows: number;
  /** Tokens between the starts of consecutive windows. */
  stride: number;
}

/**
 * The windows compute_means runs for a corpus of `corpusTokens` tokens, or a SiteMeansError that says what is missing.
 * `maxWindowTokens` caps T further (the memory plan's longest prompt on a large model); block_size always does.
 */
export function planMeansWindows(
  corpusTokens: number, blockSize: number, opts: { windows?: number; windowTokens?: number; maxWindowTokens?: number } = {},
): MeansWindows {
  const asked = opts.windows ?? DEFAULT_MEANS_WINDOWS;
  const askedT = opts.windowTokens ?? DEFAULT_MEANS_WINDOW_TOKENS;
  if (!(Number.isInteger(asked) && asked >= 1)) throw new SiteMeansError(`windows must be a positive whole number (got ${asked})`);
  if (!(Number.isInteger(askedT) && askedT >= 1)) throw new SiteMeansError(`window tokens must be a positive whole number (got ${askedT})`);
  const T = Math.min(askedT, blockSize, opts.maxWindowTokens ?? Infinity);
  if (corpusTokens === 0) throw new SiteMeansError('the text is empty: give some text (for example Python code) to compute the means over');
  if (corpusTokens < T + 1) {
    throw new SiteMeansError(`the text is ${corpusTokens.toLocaleString('en-US')} tokens long, fewer than one window of ${T} tokens (plus one): give more text`);
  }
  const windows = Math.min(asked, corpusTokens - T);
  return { windowTokens: T, windows, stride: Math.max(1, Math.floor((corpusTokens - T) / windows)) };
}

export interface SiteMeansOptions {
  windows?: number;
  windowTokens?: number;
  maxWindowTokens?: number;
  /** Windows per forward pass (default: as many as keep the read-back records within RECORD_BYTES_PER_BATCH, at most 16). */
  batchWindows?: number;
  /** After each batch: windows done of all. */
  onProgress?: (done: number, total: number) => void;
  /** Checked before every batch. */
  signal?: AbortSignal;
}

export interface SiteMeans {
  /** Site -> mean per channel, in hook-site order. */
  means: Map<SiteName, Float32Array>;
  plan: MeansWindows;
}

/** Windows per batch: the records of all sites for a batch ([B, T, width] each, read back as float32) within the bound. */
export function meansBatchWindows(model: SparseGpt, windowTokens: number): number {
  const widths = allSites(model.config).reduce((n, s) => n + siteWidth(model.config, s), 0);
  return Math.max(1, Math.min(MAX_BATCH_WINDOWS, Math.floor(RECORD_BYTES_PER_BATCH / (4 * windowTokens * widths))));
}

export async function computeSiteMeans(model: SparseGpt, tokens: ArrayLike<number>, opts: SiteMeansOptions = {}): Promise<SiteMeans> {
  const c = model.config;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!(Number.isInteger(t) && t >= 0 && t < c.vocabSize)) throw new SiteMeansError(`token ${t} at position ${i} is outside the vocabulary [0, ${c.vocabSize})`);
  }
  const plan = planMeansWindows(tokens.length, c.blockSize, opts);
  const { windowTokens: T, windows: n, stride } = plan;
  const batch = opts.batchWindows ?? meansBatchWindows(model, T);
  if (!(Number.isInteger(batch) && batch >= 1)) throw new SiteMeansError(`batch windows must be a positive whole number (got ${batch})`);
  const sites = allSites(c);
  const sums = new Map<SiteName, Float64Array>(sites.map((s) => [s, new Float64Array(siteWidth(c, s))]));
  opts.onProgress?.(0, n);
  for (let b = 0; b < n; b += batch) {
    // A macrotask between batches: on cpu and wasm readbacks resolve as microtasks, and a cancel must get in.
    await new Promise((r) => setTimeout(r, 0));
    opts.signal?.throwIfAborted();
    const rows = Math.min(batch, n - b);
    const ids = new Int32Array(rows * T);
    for (let r = 0; r < rows; r++) {
      const start = (b + r) * stride;
      for (let t = 0; t < T; t++) ids[r * T + t] = tokens[start + t]!;
    }
    const x = tf.tensor2d(ids, [rows, T], 'int32');
    let out;
    try {
      out = model.forwardTensors(x, { record: 'all' });
    } finally {
      x.dispose();
    }
    out.logits.dispose();
    try {
      // One site at a time: only one site's records are on the host at once.
      for (const site of sites) {
        const rec = out.records.get(site);
        if (!rec) throw new Error(`the forward pass did not record site ${site}`);
        const data = (await rec.data()) as Float32Array;
        const sum = sums.get(site)!;
        const w = sum.length;
        for (let i = 0; i < data.length; i += w) for (let j = 0; j < w; j++) sum[j] = sum[j]! + data[i + j]!;
      }
    } finally {
      for (const t of out.records.values()) t.dispose();
    }
    opts.onProgress?.(b + rows, n);
  }
  const count = n * T;
  const means = new Map<SiteName, Float32Array>();
  for (const [site, sum] of sums) means.set(site, Float32Array.from(sum, (v) => v / count));
  return { means, plan };
}
