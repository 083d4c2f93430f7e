/**
 * Float64 reference forward pass of a weight-sparse GPT, written directly from docs/model-folder.md with plain
 * loops over Float64Array. It is a test oracle for the accelerated runtime: slow, simple and easy to audit.
 *
 * Everything is computed in float64 from the (float32) checkpoint tensors, so differences against a float32
 * implementation are rounding only.
 */
import type { AbsTopKLocation, ModelConfig } from '../config';
import type { LoadedCheckpoint, HostTensor } from '../weights';
import { siteKind, siteName, type LayerSiteKind, type SiteName } from '../registry';

export interface ReferenceOptions {
  /** Replace state-dict tensors (by released key name) before running. */
  tensorOverrides?: Map<string, HostTensor>;
  /**
   * If it returns a number, that number becomes the value of (site, channel) at every position. Applied after the
   * site's AbsTopK and before anything reads the site (for `final_resid`: to the residual before ln_f).
   */
  siteReplace?: (site: SiteName, channel: number) => number | undefined;
  /**
   * Residual edges, by path patching: the reader (an act_in site or final_resid) reads its own copy of the residual
   * stream in which, on `channel`, the writer's recorded value (after AbsTopK and siteReplace) is replaced by `value`,
   * before the reader's norm. The stream itself, and every other reader, is unchanged.
   */
  residualPatches?: readonly { writer: SiteName; reader: SiteName; channel: number; value: number }[];
  /** q·k edges: in layer `layer`'s attention scores, the term q_i[c]·k_j[c] of `channel` c becomes q_i[c]·value. */
  qkPatches?: readonly { layer: number; channel: number; value: number }[];
}

export interface ReferenceResult {
  /** [T * V], row-major. */
  logits: Float64Array;
  /** Every hook site -> [T * width], row-major, post-AbsTopK (and post-siteReplace). */
  sites: Map<SiteName, Float64Array>;
  /** Layer -> [H * T * T]: head h, query i, key j at h*T*T + i*T + j. Softmax probabilities, sink slot excluded. */
  attention: Map<number, Float64Array>;
}

/** RMSNorm eps: float32 machine epsilon (PyTorch's default for nn.RMSNorm in fp32). */
export const RMS_NORM_EPS = 1.1920929e-7;
export const LAYER_NORM_EPS = 1e-5;

// ---------------------------------------------------------------------------------------------------------------
// Special functions

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2 / sqrt(pi)
const ONE_OVER_SQRT_PI = 0.5641895835477563; // 1 / sqrt(pi)

/**
 * Complementary error function for x >= 0: relative error about 1e-14 or better (absolute about 1e-15 or better).
 * Small x: Maclaurin series of erf. Large x: the classical continued fraction
 * erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated bottom-up.
 */
function erfcNonNegative(x: number): number {
  if (x < 1.5) return 1 - erfSeries(x);
  if (x > 27) return 0; // exp(-729) underflows
  let tail = x;
  for (let n = 150; n >= 1; n--) tail = x + n / 2 / tail;
  return (Math.exp(-x * x) * ONE_OVER_SQRT_PI) / tail;
}

/** erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)); used for |x| < 1.5 (cancellation costs < 1 digit). */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x; // (-1)^n x^(2n+1) / n!
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return -erf(-x);
  if (x < 1.5) return erfSeries(x);
  return 1 - erfcNonNegative(x);
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfcNonNegative(-x);
  return erfcNonNegative(x);
}

/** Exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) = 0.5 x erfc(-x / sqrt 2) (the latter keeps the negative tail accurate). */
export function gelu(x: number): number {
  return 0.5 * x * erfc(-x / Math.SQRT2);
}

// ---------------------------------------------------------------------------------------------------------------
// Building blocks (rows of a [T, width] row-major buffer)

/**
 * AbsTopK along each row of a [rows, width] buffer, in place: keeps the k entries of largest |x|
 * (ties: the lower index wins) and zeroes the rest.
 */
export function absTopKRows(buf: Float64Array, rows: number, width: number, k: number): void {
  if (k >= width) return;
  const order = new Array<number>(width);
  for (let t = 0; t < rows; t++) {
    const off = t * width;
    for (let c = 0; c < width; c++) order[c] = c;
    order.sort((a, b) => {
      const d = Math.abs(buf[off + b]!) - Math.abs(buf[off + a]!);
      return d !== 0 ? d : a - b;
    });
    for (let r = k; r < width; r++) buf[off + order[r]!] = 0;
  }
}

/** out[t, o] = bias[o] + sum_i W[o, i] * x[t, i], with W stored [out, in]. */
function linear(x: Float64Array, rows: number, inDim: number, w: HostTensor, bias: HostTensor | undefined, outDim: number): Float64Array {
  const out = new Float64Array(rows * outDim);
  const W = w.data;
  for (let t = 0; t < rows; t++) {
    const xo = t * inDim;
    for (let o = 0; o < outDim; o++) {
      let s = bias ? bias.data[o]! : 0;
      const wo = o * inDim;
      for (let i = 0; i < inDim; i++) s += W[wo + i]! * x[xo + i]!;
      out[t * outDim + o] = s;
    }
  }
  return out;
}

function rmsNorm(x: Float64Array, rows: number, d: number, w: HostTensor): Float64Array {
  const out = new Float64Array(rows * d);
  for (let t = 0; t < rows; t++) {
    let ss = 0;
    for (let i = 0; i < d; i++) ss += x[t * d + i]! ** 2;
    const inv = 1 / Math.sqrt(ss / d + RMS_NORM_EPS);
    for (let i = 0; i < d; i++) out[t * d + i] = x[t * d + i]! * inv * w.data[i]!;
  }
  return out;
}

/** LayerNorm with biased variance. */
function layerNorm(x: Float64Array, rows: number, d: number, w: HostTensor, b: HostTensor | undefined): Float64Array {
  const out = new Float64Array(rows * d);
  for (let t = 0; t < rows; t++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[t * d + i]!;
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[t * d + i]! - mean) ** 2;
    v /= d;
    const inv = 1 / Math.sqrt(v + LAYER_NORM_EPS);
    for (let i = 0; i < d; i++) out[t * d + i] = (x[t * d + i]! - mean) * inv * w.data[i]! + (b ? b.data[i]! : 0);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

export function referenceForward(ckpt: LoadedCheckpoint, tokens: number[], opts: ReferenceOptions = {}): ReferenceResult {
  const c: ModelConfig = ckpt.config;
  const T = tokens.length;
  const { vocabSize: V, dModel: d, nHead: H, dHead: dh, dMlp, nLayer } = c;
  const Q = H * dh;

  if (T === 0) throw new Error('referenceForward: empty token sequence');
  if (T > c.blockSize) throw new Error(`referenceForward: ${T} tokens exceed block_size ${c.blockSize}`);
  for (const [i, tok] of tokens.entries()) {
    if (!Number.isInteger(tok) || tok < 0 || tok >= V) throw new Error(`referenceForward: token ${tok} at position ${i} is outside [0, ${V})`);
  }

  const lookup = (name: string): HostTensor | undefined => opts.tensorOverrides?.get(name) ?? ckpt.tensors.get(name);
  const checkShape = (name: string, t: HostTensor, shape: number[]): HostTensor => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]) || t.data.length !== size) {
      throw new Error(`referenceForward: tensor "${name}" has shape [${t.shape.join(',')}] (${t.data.length} values), expected [${shape.join(',')}]`);
    }
    return t;
  };
  const req = (name: string, shape: number[]): HostTensor => {
    const t = lookup(name);
    if (!t) throw new Error(`referenceForward: required tensor "${name}" is missing`);
    return checkShape(name, t, shape);
  };
  const opt = (name: string, shape: number[]): HostTensor | undefined => {
    const t = lookup(name);
    return t ? checkShape(name, t, shape) : undefined;
  };
  /** Linear biases: used when config.bias and the tensor is present (a missing bias counts as zero). */
  const linBias = (name: string, n: number): HostTensor | undefined => (c.bias ? opt(name, [n]) : undefined);
  const norm = (prefix: string, x: Float64Array): Float64Array => {
    const w = req(`${prefix}.weight`, [d]);
    if (c.rmsNorm) return rmsNorm(x, T, d, w);
    return layerNorm(x, T, d, w, c.lnBias ? opt(`${prefix}.bias`, [d]) : undefined);
  };

  const sites = new Map<SiteName, Float64Array>();
  const attention = new Map<number, Float64Array>();

  /** AbsTopK (if configured here), then siteReplace, then record. Mutates and returns buf. */
  const hook = (site: SiteName, loc: AbsTopKLocation | null, buf: Float64Array, width: number): Float64Array => {
    if (loc !== null && c.afrac !== null && c.afracLocations.has(loc)) {
      absTopKRows(buf, T, width, Math.floor(c.afrac * width));
    }
    if (opts.siteReplace) {
      for (let ch = 0; ch < width; ch++) {
        const v = opts.siteReplace(site, ch);
        if (v !== undefined) for (let t = 0; t < T; t++) buf[t * width + ch] = v;
      }
    }
    sites.set(site, buf.slice());
    return buf;
  };
  const layerHook = (layer: number, kind: LayerSiteKind, buf: Float64Array, width: number): Float64Array =>
    hook(siteName(layer, kind), siteKind(kind).absTopK, buf, width); // the location as registry.json states it
  /** The reader's copy of the stream x: each patch into it swaps its writer's recorded value for `value`. */
  const readCopy = (reader: SiteName, x: Float64Array): Float64Array => {
    const patches = (opts.residualPatches ?? []).filter((p) => p.reader === reader);
    if (patches.length === 0) return x;
    const copy = x.slice();
    for (const p of patches) {
      const w = sites.get(p.writer);
      if (!w) throw new Error(`referenceForward: residual patch from ${p.writer} into ${reader}: the writer comes later or does not exist`);
      for (let t = 0; t < T; t++) copy[t * d + p.channel] += p.value - w[t * d + p.channel]!;
    }
    return copy;
  };

  // Embeddings
  const wte = req('transformer.wte.weight', [V, d]);
  const wpe = req('transformer.wpe.weight', [c.blockSize, d]);
  const x = new Float64Array(T * d);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < d; i++) x[t * d + i] = wte.data[tokens[t]! * d + i]! + wpe.data[t * d + i]!;
  }

  const scale = 1 / Math.sqrt(dh);
  for (let L = 0; L < nLayer; L++) {
    const p = `transformer.h.${L}`;

    // ---- attention
    const a = layerHook(L, 'attn.act_in', norm(`${p}.ln_1`, readCopy(siteName(L, 'attn.act_in'), x)), d);
    const qkv = linear(a, T, d, req(`${p}.attn.c_attn.weight`, [3 * Q, d]), linBias(`${p}.attn.c_attn.bias`, 3 * Q), 3 * Q);
    const q = new Float64Array(T * Q);
    const k = new Float64Array(T * Q);
    const v = new Float64Array(T * Q);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < Q; j++) {
        q[t * Q + j] = qkv[t * 3 * Q + j]!;
        k[t * Q + j] = qkv[t * 3 * Q + Q + j]!;
        v[t * Q + j] = qkv[t * 3 * Q + 2 * Q + j]!;
      }
    }
    layerHook(L, 'attn.q', q, Q);
    layerHook(L, 'attn.k', k, Q);
    layerHook(L, 'attn.v', v, Q);

    const sink = c.sink ? req(`${p}.attn.attn_imp.sink_logit`, [H]) : undefined;
    const qkPatches = (opts.qkPatches ?? []).filter((qp) => qp.layer === L);
    const probs = new Float64Array(H * T * T);
    const y = new Float64Array(T * Q);
    const scores = new Float64Array(T);
    for (let h = 0; h < H; h++) {
      const sinkLogit = sink ? sink.data[h]! : undefined;
      for (let i = 0; i < T; i++) {
        let max = sinkLogit ?? -Infinity;
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let e = 0; e < dh; e++) s += q[i * Q + h * dh + e]! * k[j * Q + h * dh + e]!;
          for (const qp of qkPatches) {
            if (Math.floor(qp.channel / dh) === h) s += q[i * Q + qp.channel]! * (qp.value - k[j * Q + qp.channel]!);
          }
          scores[j] = s * scale;
          if (scores[j]! > max) max = scores[j]!;
        }
        let denom = sinkLogit !== undefined ? Math.exp(sinkLogit - max) : 0;
        for (let j = 0; j <= i; j++) {
          scores[j] = Math.exp(scores[j]! - max);
          denom += scores[j]!;
        }
        for (let j = 0; j <= i; j++) {
          const pr = scores[j]! / denom;
          probs[h * T * T + i * T + j] = pr;
          for (let e = 0; e < dh; e++) y[i * Q + h * dh + e] += pr * v[j * Q + h * dh + e]!;
        }
      }
    }
    attention.set(L, probs);

    const r1 = linear(y, T, Q, req(`${p}.attn.c_proj.weight`, [d, Q]), linBias(`${p}.attn.c_proj.bias`, d), d);
    layerHook(L, 'attn.resid_delta', r1, d);
    for (let i = 0; i < T * d; i++) x[i] += r1[i]!;

    // ---- MLP
    const m = layerHook(L, 'mlp.act_in', norm(`${p}.ln_2`, readCopy(siteName(L, 'mlp.act_in'), x)), d);
    const pre = linear(m, T, d, req(`${p}.mlp.c_fc.weight`, [dMlp, d]), linBias(`${p}.mlp.c_fc.bias`, dMlp), dMlp);
    for (let i = 0; i < pre.length; i++) pre[i] = c.activation === 'gelu' ? gelu(pre[i]!) : Math.max(0, pre[i]!);
    const hid = layerHook(L, 'mlp.post_act', pre, dMlp);
    const r2 = linear(hid, T, dMlp, req(`${p}.mlp.c_proj.weight`, [d, dMlp]), linBias(`${p}.mlp.c_proj.bias`, d), d);
    layerHook(L, 'mlp.resid_delta', r2, d);
    for (let i = 0; i < T * d; i++) x[i] += r2[i]!;
  }

  const xFinal = hook('final_resid', null, readCopy('final_resid', x), d);
  const xf = norm('transformer.ln_f', xFinal);
  const lmHead = c.tiedUnembed ? wte : req('lm_head.weight', [V, d]);
  const logits = linear(xf, T, d, lmHead, opt('final_logits_bias', [V]), V);
  if (c.bigramTable) {
    const bigram = req('bigram_table', [V, V]);
    for (let t = 0; t < T; t++) for (let o = 0; o < V; o++) logits[t * V + o] += bigram.data[tokens[t]! * V + o]!;
  }
  return { logits, sites, attention };
}
