// Large-model checks and measurements in the browser (harness.html, bench.html): load a model folder of the released
// sizes (scripts/make-bridges2-model.py writes one) in a chosen weight representation, run its golden 64-token prompt,
// compare with the PyTorch float64 reference stored next to it, and report load time, forward latency and memory.
import { tf } from '../model/tfjs';
import type { BackendName } from '../model/backends/types';
import { loadModelFolder } from '../model/checkpoint/loadModelFolder';
import { parseSafetensors, toFloat32, toInt32 } from '../model/checkpoint/safetensors';
import { urlSource } from '../model/checkpoint/sources';
import { absTopKCount } from '../model/config';
import { SparseGpt } from '../model/forward';
import type { Intervention } from '../model/interventions';
import { defaultMemoryBudget, describePlan, fixedMemoryBudget, promptRunBytes, type RepresentationChoice } from '../model/memoryEstimate';
import { absTopKLocationOf, allSites, siteWidth } from '../model/sites';
import { defaultSparseKernel, type SparseKernel } from '../model/sparseLinear';
import { goldenDiffs, maxAbsDiff, testTokens } from '../model/testing/goldenDiffs';
import { compareTrace, type TraceEntry } from '../model/testing/nearTies';
import { OPTION_CASES } from '../model/testing/optionMatrix';
import { randomCheckpoint } from '../model/testing/randomCheckpoint';
import { toSparseRepresentation } from '../model/testing/sparseCheckpoint';
import { setCsrPool, type CsrPool, type CsrPoolSupport } from '../model/csrPool';
import { Engine } from '../worker/engine';
import { PromptRunCache } from '../worker/promptRunCache';

export interface BigModelOptions {
  baseUrl: string;
  backend: BackendName;
  representation?: RepresentationChoice;
  kernel?: SparseKernel;
  /** Timed forward passes after one warm-up. */
  runs?: number;
  /** Total memory budget in bytes instead of the backend's default (to see a refusal). */
  budgetBytes?: number;
  /** Also run a prompt this long (the golden prompt continued with seeded tokens), recording one layer's attention
   *  as the explorer does: its time, its peak backend memory against the plan, and its first 64 positions against
   *  the reference (causal: they do not see the rest). */
  longPrompt?: number;
  /** Timed runs of the long prompt (after the measured one). */
  longRuns?: number;
  /** Starts the CSR worker pool (src/worker/csrPoolBrowser.ts; only where this thread may block, i.e. in a worker):
   *  the forward pass and the toggles are then timed on one thread and on all of them. */
  startCsrPool?: () => Promise<CsrPoolSupport & { pool: CsrPool | null }>;
}

function memoryNow() {
  const perf = performance as Performance & { memory?: { usedJSHeapSize: number; totalJSHeapSize: number } };
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return {
    jsHeapUsedBytes: perf.memory?.usedJSHeapSize ?? null,
    wasmHeapBytes: wasm?.HEAPU8?.buffer.byteLength ?? null,
    tfBytes: tf.memory().numBytes,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Loads, runs and compares; a refused load resolves to { refused: message }. */
export async function bigModelRun(o: BigModelOptions) {
  if (!(await tf.setBackend(o.backend))) throw new Error(`backend ${o.backend} failed to start`);
  await tf.ready();
  const before = memoryNow();
  const t0 = performance.now();
  let loaded;
  try {
    loaded = await loadModelFolder(urlSource(o.baseUrl), {
      budget: o.budgetBytes ? fixedMemoryBudget(o.backend, o.budgetBytes, 'harness budget') : defaultMemoryBudget(o.backend),
      representation: o.representation ?? 'auto',
    });
  } catch (e) {
    return { refused: (e as Error).message };
  }
  const { checkpoint, memory } = loaded;
  const kernel = o.kernel ?? defaultSparseKernel(o.backend);
  const model = new SparseGpt(checkpoint, { sparseKernel: kernel });
  const loadMs = performance.now() - t0;
  const csr = o.startCsrPool ? await o.startCsrPool() : { threads: 1, reason: 'sparse kernel on one thread: no pool started on this thread', pool: null };
  const afterLoad = memoryNow();
  try {
    const res = await fetch(`${o.baseUrl}golden.safetensors`);
    if (!res.ok) throw new Error(`golden.safetensors: HTTP ${res.status}`);
    const golden = parseSafetensors(new Uint8Array(await res.arrayBuffer()), 'golden.safetensors');
    const tokens = [...toInt32(golden.tensors.get('p0.tokens')!)];
    const c = checkpoint.config;
    const times: number[] = [];
    let out = await model.run(tokens, { record: 'all' }); // warm-up, and the run that is compared
    for (let i = 0; i < (o.runs ?? 3); i++) {
      const t = performance.now();
      await model.run(tokens);
      times.push(performance.now() - t);
    }
    // A whole forward pass under one more node ablation (what a toggle cost before incremental runs): the median of
    // the runs with it on.
    const toggled: Intervention[] = [{ kind: 'node', node: `${c.nLayer - 1}.mlp.post_act:0`, mode: 'zero' }];
    const toggleTimes: number[] = [];
    for (let i = 0; i < (o.runs ?? 3); i++) {
      const t = performance.now();
      await model.run(tokens, { interventions: toggled });
      toggleTimes.push(performance.now() - t);
      await model.run(tokens);
    }
    const byThreads = await timeByThreads(model, tokens, out.logits, o.runs ?? 3, csr.pool);
    // Logits and hook sites: max |got - want| relative to the largest |want| (each quantity's scale), with differences
    // downstream of an AbsTopK near-tie reported and set apart (src/model/testing/nearTies.ts).
    const want = toFloat32(golden.tensors.get('p0.logits')!);
    const finite = out.logits.every((x) => Number.isFinite(x));
    const scaleOf = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const REL_TOL = 1e-3;
    const entries: TraceEntry[] = allSites(c).map((s) => {
      const w = toFloat32(golden.tensors.get(`p0.${s}`)!);
      return { label: s, got: out.sites.get(s)!, want: w, width: siteWidth(c, s), selects: true, tol: REL_TOL * Math.max(scaleOf(w), 1e-30) };
    });
    const scale = scaleOf(want);
    entries.push({ label: 'logits', got: out.logits, want, width: c.vocabSize, tol: REL_TOL * Math.max(scale, 1e-30) });
    const traced = compareTrace(entries);
    const rel = (i: number, d: number) => (d * REL_TOL) / entries[i]!.tol!;
    const logitsTrace = traced.diffs.at(-1)!;
    // How many entries per row each AbsTopK site kept (at most k).
    const sites: Record<string, { relDiff: number; rawRelDiff: number; maxKept: number; k: number | null }> = {};
    allSites(c).forEach((s, i) => {
      const g = out.sites.get(s)!;
      const width = siteWidth(c, s);
      let maxKept = 0;
      for (let t = 0; t < tokens.length; t++) {
        let n = 0;
        for (let j = 0; j < width; j++) if (g[t * width + j] !== 0) n++;
        maxKept = Math.max(maxKept, n);
      }
      const loc = absTopKLocationOf(s);
      const d = traced.diffs[i]!;
      sites[s] = { relDiff: rel(i, d.diff), rawRelDiff: rel(i, d.rawDiff), maxKept, k: loc === null ? null : absTopKCount(c, loc, width) };
    });
    // Interventions of the large-model path: node ablation and circuit restriction change the logits; an edge too.
    const lastLayer = c.nLayer - 1;
    const hottest = (site: string, width: number) => {
      const v = out.sites.get(site as never)!;
      let h = 0;
      for (let j = 0; j < width; j++) if (Math.abs(v[(tokens.length - 1) * width + j]!) > Math.abs(v[(tokens.length - 1) * width + h]!)) h = j;
      return h;
    };
    const changed = async (ivs: Intervention[]) => {
      const t = performance.now();
      const r = await model.run(tokens, { interventions: ivs });
      let m = 0;
      for (let i = 0; i < r.logits.length; i++) m = Math.max(m, Math.abs(r.logits[i]! - out.logits[i]!));
      return { maxLogitChange: m, ms: performance.now() - t };
    };
    const interventions = {
      nodeAblation: await changed([{ kind: 'node', node: `${lastLayer}.mlp.resid_delta:${hottest(`${lastLayer}.mlp.resid_delta`, c.dModel)}`, mode: 'zero' }]),
      circuitRestriction: await changed([{ kind: 'circuit', mode: 'mean', nodes: allSites(c).flatMap((s) => [...Array(Math.min(64, siteWidth(c, s))).keys()].map((ch) => `${s}:${ch}`)) }]),
      edgeAblation: await changed(strongEdge(checkpoint, lastLayer, hottest(`${lastLayer}.mlp.resid_delta`, c.dModel), tokens.length, out.sites.get(`${lastLayer}.mlp.post_act`)!)),
    };
    const afterRuns = memoryNow();
    const longPrompt = o.longPrompt ? await runLongPrompt(model, tokens, want, scale, memory.prompt, o.longPrompt, o.longRuns ?? 1) : undefined;
    out = null as unknown as typeof out;
    return {
      backend: tf.getBackend(),
      representation: memory.representation,
      kernel: memory.representation === 'sparse' ? kernel : null,
      plan: describePlan(memory),
      estimate: memory.estimate,
      loadMs,
      forwardMs: times,
      forwardMsMedian: median(times),
      toggleMs: toggleTimes,
      toggleMsMedian: median(toggleTimes),
      crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated ?? null,
      csrThreads: csr.threads,
      csrThreadsReason: csr.reason,
      ...byThreads,
      promptTokens: tokens.length,
      logitsLength: want.length,
      logitsShape: [tokens.length, c.vocabSize],
      finite,
      /** Over what no AbsTopK near-tie explains; the raw values include what they explain. */
      logitsMaxAbsDiff: logitsTrace.diff,
      logitsRawMaxAbsDiff: logitsTrace.rawDiff,
      logitsScale: scale,
      logitsRelDiff: logitsTrace.diff / scale,
      nearTies: traced.nearTies.map((t) => t.message),
      sites,
      interventions,
      ...(longPrompt ? { longPrompt } : {}),
      memory: { before, afterLoad, afterRuns },
    };
  } finally {
    model.dispose();
  }
}

/**
 * The forward pass and a toggle as the explorer's engine does it (PromptRunCache, the path of runDetailed: rerun from
 * the stage the toggle changes, the last layer at the last position only when only logits are read), for a node in
 * the last layer and one in the first layer's attention (stage 0: everything but the embedding reruns), each timed on
 * one thread and, where a pool runs, on all of them, in the same page. Each timed toggle ablates another channel (a
 * list seen before would be answered from the cache) and is followed by the toggle off (answered from the cache).
 * The incremental logits are checked against a whole forward pass under the same list.
 */
async function timeByThreads(model: SparseGpt, tokens: number[], baseLogits: Float32Array, runs: number, pool: CsrPool | null) {
  const c = model.config;
  const V = c.vocabSize;
  const T = tokens.length;
  const reads = { sites: [], attentionLayers: [] };
  const settings: [string, CsrPool | null][] = pool ? [['oneThread', null], ['allThreads', pool]] : [['oneThread', null]];
  const toggles = { lastLayer: (ch: number) => `${c.nLayer - 1}.mlp.post_act:${ch}`, firstLayer: (ch: number) => `0.attn.q:${ch}` };
  const result: Record<string, Record<string, unknown>> = { forward: {}, lastLayerToggle: {}, firstLayerToggle: {} };
  let check = 0;
  try {
    for (const [label, p] of settings) {
      setCsrPool(p);
      const fwd: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await model.run(tokens);
        fwd.push(performance.now() - t);
      }
      result.forward![`${label}Ms`] = fwd;
      result.forward![`${label}MsMedian`] = median(fwd);
      for (const [name, node] of Object.entries(toggles)) {
        const cache = new PromptRunCache(model);
        try {
          await cache.run(tokens, [], reads);
          const times: number[] = [];
          let fromStage: number | null = null;
          for (let i = 0; i < runs; i++) {
            const list: Intervention[] = [{ kind: 'node', node: node(i + 1), mode: 'zero' }];
            const t = performance.now();
            const r = await cache.run(tokens, list, reads);
            times.push(performance.now() - t);
            fromStage = r.fromStage;
            if (i === 0) {
              const full = await model.run(tokens, { interventions: list });
              check = Math.max(check, maxAbsDiff(r.lastLogits, full.logits.subarray((T - 1) * V)) / baseLogits.reduce((m, x) => Math.max(m, Math.abs(x)), 1e-30));
            }
            await cache.run(tokens, [], reads);
          }
          const entry = result[`${name}Toggle`]!;
          entry.node = node(1);
          entry.fromStage = fromStage;
          entry[`${label}Ms`] = times;
          entry[`${label}MsMedian`] = median(times);
        } finally {
          cache.dispose();
        }
      }
    }
  } finally {
    setCsrPool(pool);
  }
  // One thread's median over all threads': what the pool buys, measured side by side.
  for (const e of Object.values(result)) {
    if (typeof e.allThreadsMsMedian === 'number') e.ratioOneToAll = (e.oneThreadMsMedian as number) / e.allThreadsMsMedian;
  }
  return { byThreads: result, incrementalToggleRelDiff: check };
}

/**
 * A T-token prompt that starts with the golden one: one run recording the last layer's attention pattern (as the
 * explorer does) under tf.profile, for its peak backend memory beyond the weights, then `runs` timed plain runs. Its
 * first positions see only the golden prompt, so their logits must match the float64 reference's for it.
 */
async function runLongPrompt(
  model: SparseGpt, golden: number[], goldenLogits: Float32Array, scale: number, covered: { tokens: number; limit: string }, T: number, runs: number,
) {
  const c = model.config;
  const tokens = [...golden, ...testTokens(T - golden.length, c.vocabSize, 17)];
  const before = tf.memory().numBytes;
  let logits: Float32Array | null = null;
  let pattern = 0;
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    const r = await model.run(tokens, { recordAttention: [c.nLayer - 1] });
    logits = r.logits;
    pattern = r.attention.get(c.nLayer - 1)!.length;
  });
  const measuredMs = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await model.run(tokens);
    times.push(performance.now() - t);
  }
  const got = logits! as Float32Array;
  const prefix = golden.length * c.vocabSize;
  return {
    tokens: T,
    planCovers: covered.tokens,
    planLimit: covered.limit,
    /** Backend bytes beyond the weights the plan reserves for a prompt this long, and what tf.profile counted. */
    planRunBytes: promptRunBytes(c, T),
    peakBytes: info.peakBytes - before,
    patternLength: pattern,
    finite: got.every((x) => Number.isFinite(x)),
    prefixRelDiff: maxAbsDiff(got.subarray(0, prefix), goldenLogits.subarray(0, prefix)) / scale,
    measuredRunMs: measuredMs,
    forwardMs: times,
    forwardMsMedian: times.length ? median(times) : null,
  };
}

/** The mlp c_proj edge into resid_delta channel `target` from the post_act channel that contributes most to it at
 *  the last position (post_act -> mlp.resid_delta). */
function strongEdge(ckpt: { sparse?: Map<string, { get(r: number, c: number): number; cols: number }>; tensors: Map<string, { data: Float32Array; shape: number[] }> }, layer: number, target: number, T: number, post: Float32Array): Intervention[] {
  const key = `transformer.h.${layer}.mlp.c_proj.weight`;
  const S = ckpt.sparse?.get(key);
  const D = ckpt.tensors.get(key);
  const cols = S ? S.cols : D!.shape[1]!;
  const w = (i: number) => (S ? S.get(target, i) : D!.data[target * cols + i]!);
  const contribution = (i: number) => Math.abs(w(i) * post[(T - 1) * cols + i]!);
  let best = -1;
  for (let i = 0; i < cols; i++) if (w(i) !== 0 && (best < 0 || contribution(i) > contribution(best))) best = i;
  return best < 0 ? [] : [{ kind: 'edge', source: `${layer}.mlp.post_act:${best}`, target: `${layer}.mlp.resid_delta:${target}`, mode: 'zero' }];
}

/**
 * Through the app's engine (the worker's logic, here on the page): load a small model, then try `bigUrl` under a
 * tiny budget; the refusal's message and whether the small model still answers the same.
 */
export async function refusalKeepsModel(o: { smallUrl: string; bigUrl: string; budgetBytes: number; backend: BackendName }) {
  const engine = new Engine();
  await engine.init(o.backend, { budgetBytes: o.budgetBytes });
  const signal = new AbortController().signal;
  await engine.load({ kind: 'url', baseUrl: o.smallUrl, id: 'small' }, () => {}, signal);
  const before = await engine.predict('def f(x):\n    return', 5, []);
  const plans: string[] = [];
  let refused: string | null = null;
  try {
    await engine.load({ kind: 'url', baseUrl: o.bigUrl, id: 'big' }, (p) => p.memory && plans.push(p.memory.text), signal);
  } catch (e) {
    refused = (e as Error).message;
  }
  const after = await engine.predict('def f(x):\n    return', 5, []);
  return {
    refused,
    plans,
    stillLoaded: engine.summary().id,
    sameAnswer: JSON.stringify(after.top.map((p) => [p.id, p.logit])) === JSON.stringify(before.top.map((p) => [p.id, p.logit])),
  };
}

/**
 * The sparse representation on a browser-only backend (webgl: sparseLinear reads activations back with dataSync
 * there; webgpu: its WGSL kernel) against the float64 reference, for every architecture option: max abs diff per
 * case and quantity.
 */
export async function sparseGoldenSuite(backend: BackendName) {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to start`);
  await tf.ready();
  const cases: Record<string, Record<string, number>> = {};
  for (const [label, config] of OPTION_CASES) {
    const ckpt = randomCheckpoint({ config, seed: 11 });
    cases[label] = await goldenDiffs(ckpt, testTokens(9, ckpt.config.vocabSize, 7), [], {}, toSparseRepresentation(ckpt));
  }
  return { backend: tf.getBackend(), cases };
}
