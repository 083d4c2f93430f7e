import { ATTENTION_QUERY_CHUNK } from './attentionChunk';
import { CheckpointError, formatBytes } from './checkpoint/errors';
import type { SafetensorsHeader } from './checkpoint/safetensors';
import { storedLayout, type StoredTensor } from './checkpoint/sparse';
import { expectedTensors } from './checkpoint/validate';
import type { ModelConfig } from './config';
import { allSites, siteWidth } from './sites';
import { isLinearWeight } from './weights';

/**
 * How much memory a model will take, decided before its weights are downloaded (from config.json and the
 * safetensors header only), for each way the runtime can hold it:
 *
 * - 'dense': every tensor dense float32, uploaded to the backend (GpuWeights), plus the host copy the engine keeps
 *   (interventions, circuits and pruning read it). What the shipped models use.
 * - 'sparse': the linear weights (c_attn, c_proj, c_fc, lm_head) stay on the worker as SparseMatrix (CSR, 8 bytes per
 *   nonzero) and are multiplied by sparseLinear; everything else (embeddings, norms, biases, bigram table) is dense.
 *
 * planMemory picks one for the active backend and budget, or refuses with the numbers. Pure: no TF.js, no DOM.
 */
export type WeightRepresentation = 'dense' | 'sparse';
export type RepresentationChoice = WeightRepresentation | 'auto';

export interface RepresentationEstimate {
  representation: WeightRepresentation;
  /** Bytes of weights the worker holds in this form (compared against the loader's maxDenseBytes guard). */
  weightBytes: number;
  /** Worker-side ArrayBuffers kept while the model is loaded (checkpoint tensors, sparse matrices, site means). */
  hostBytes: number;
  /** Backend tensors: weights and site means (the wasm heap, GPU memory; the JS heap on cpu). */
  deviceBytes: number;
  /** model.safetensors as downloaded. */
  downloadBytes: number;
  /** hostBytes + deviceBytes: held once loaded. */
  steadyBytes: number;
  /** Most held at once while loading (download buffer, host tensors, backend copies, transposition scratch). */
  peakBytes: number;
  /** Backend memory a forward pass needs on top, for a prompt of WORKING_TOKENS tokens (workingBytes() + scratchBytes). */
  workingBytes: number;
  /** Backend memory a forward pass needs whatever the prompt's length (none for the default sparse kernels; the
   *  'densify' one, selectable, would need a dense copy of the largest matrix). */
  scratchBytes: number;
  /** false when the header did not say how some tensor is stored (then counted as dense: an upper bound). */
  exact: boolean;
}

/** What the active backend can give a model. */
export interface MemoryBudget {
  backend: string;
  /** Most bytes the model may hold in all (host + device, and the peak while loading). */
  bytes: number;
  /** Most bytes of backend tensors (e.g. the 4 GiB wasm32 heap). */
  deviceBytes: number;
  /** Where the numbers come from, for the user. */
  detail: string;
}

export interface MemoryPlan {
  representation: WeightRepresentation;
  estimate: RepresentationEstimate;
  dense: RepresentationEstimate;
  /** Null when the model has no linear weight that could be kept sparse. */
  sparse: RepresentationEstimate | null;
  budget: MemoryBudget;
  /** Held by the model that stays loaded until this one is ready (it counts against the budget). */
  heldBytes: number;
  /** Budget left for this model: budget.bytes - heldBytes. */
  availableBytes: number;
  /** Why this representation, in words. */
  reason: string;
  /** The longest prompt the plan covers (promptCoverage). */
  prompt: PromptCoverage;
}

export interface PromptCoverage {
  /** The longest prompt covered: at most the context. */
  tokens: number;
  /** What sets it: the model's context (block_size) or the memory left for running a prompt. */
  limit: 'context' | 'memory';
  /** The model's context (block_size). */
  contextTokens: number;
  /** Backend bytes beyond the weights to run a prompt that long (promptRunBytes + the estimate's scratch). */
  bytes: number;
}

/** The prompt length the fit check reserves working memory for. */
export const WORKING_TOKENS = 64;

/**
 * Backend bytes one forward pass holds beyond the weights for a T-token prompt: the forward frees each layer's
 * intermediates before the next layer, so this is one layer's: the copies the q/k/v, MLP and residual ops make, and
 * the attention scores and probabilities of one chunk of at most ATTENTION_QUERY_CHUNK queries (chunkedAttention.ts:
 * H*chunk*T each, six such tensors at once), plus, past one chunk, the chunks' outputs and their join (2*T*H*dHead),
 * and the [T, T] causal mask.
 * The per-position terms were fitted to TF.js's own count (tf.profile peakBytes) on the csp_bridges2 shape at T = 16,
 * 64 and 256 before attention ran in chunks (14, 65 and 411 MB); with chunks, the same count on that shape (sparse
 * weights, wasm) is 52, 135 and 541 MB at T = 64, 256 and 1,024, which this bounds (67, 271 and 1,086 MB).
 */
export function workingBytes(c: ModelConfig, T: number): number {
  const Q = c.nHead * c.dHead;
  const perToken = 28 * Q + 12 * c.dMlp + 24 * c.dModel + 3 * c.vocabSize;
  const scores = 6 * c.nHead * Math.min(T, ATTENTION_QUERY_CHUNK) * T;
  const joined = T > ATTENTION_QUERY_CHUNK ? 2 * T * Q : 0;
  const mask = T * T; // the causal mask, kept per prompt length (SparseGpt.causalMask)
  return 4 * (T * perToken + scores + joined + mask);
}

/**
 * Backend bytes of one layer's recorded attention pattern ([H, T, T], what the explorer's live view records for the
 * selected node's layer): the pattern itself, and past one chunk also its pieces until they are joined.
 */
export function recordedPatternBytes(c: ModelConfig, T: number): number {
  return 4 * c.nHead * T * T * (T > ATTENTION_QUERY_CHUNK ? 2 : 1);
}

/** Backend bytes beyond the weights to run a T-token prompt as the explorer does (one layer's pattern recorded). */
export function promptRunBytes(c: ModelConfig, T: number): number {
  return workingBytes(c, T) + recordedPatternBytes(c, T);
}

/**
 * The longest prompt, at most block_size, that an estimate leaves room to run (promptRunBytes + its scratch next to
 * the weights, within both the total and the backend budget), and whether the context or the memory sets it.
 */
export function promptCoverage(c: ModelConfig, e: RepresentationEstimate, available: number, availableDevice: number): PromptCoverage {
  const run = (T: number) => promptRunBytes(c, T) + e.scratchBytes;
  const fits = (T: number) => e.steadyBytes + run(T) <= available && e.deviceBytes + run(T) <= availableDevice;
  const covered = (tokens: number, limit: PromptCoverage['limit']): PromptCoverage => ({ tokens, limit, contextTokens: c.blockSize, bytes: run(tokens) });
  if (fits(c.blockSize)) return covered(c.blockSize, 'context');
  // promptRunBytes grows with T: the largest T that fits, by bisection (lo fits or is 0, hi does not).
  let lo = 0;
  let hi = c.blockSize;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return covered(lo, 'memory');
}

/** A dense tensor below this many bytes of dense weights is never worth keeping sparse. */
export const SPARSE_PREFERRED_ABOVE = 64 * 1024 ** 2;

const GiB = 1024 ** 3;
/** wasm32 caps the TF.js wasm heap at 4 GiB; leave room for activations and the runtime itself. */
const WASM_DEVICE_BYTES = 3.5 * GiB;

/**
 * The budget of a backend in this environment. Browsers do not say how much memory a tab may use: the total is
 * half of navigator.deviceMemory (which browsers round and cap at 8 GiB), at most 4 GiB, and 4 GiB when unknown;
 * backend memory is the wasm heap's 4 GiB cap on wasm, and an assumed 1 GiB (webgl) or 2 GiB (webgpu) of GPU memory,
 * which browsers do not report.
 */
export function defaultMemoryBudget(backend: string, env: { deviceMemoryGiB?: number | null } = {}): MemoryBudget {
  const dm = env.deviceMemoryGiB;
  const bytes = dm && dm > 0 ? Math.min(4 * GiB, (dm * GiB) / 2) : 4 * GiB;
  const total = dm && dm > 0 ? `half the device memory the browser reports (${dm} GiB), at most 4 GiB` : 'device memory unknown: 4 GiB assumed';
  switch (backend) {
    case 'wasm':
      return { backend, bytes, deviceBytes: Math.min(bytes, WASM_DEVICE_BYTES), detail: `${total}; the wasm heap is capped at 4 GiB` };
    case 'webgl':
      return { backend, bytes, deviceBytes: Math.min(bytes, GiB), detail: `${total}; 1 GiB of GPU memory assumed (browsers do not report it)` };
    case 'webgpu':
      return { backend, bytes, deviceBytes: Math.min(bytes, 2 * GiB), detail: `${total}; 2 GiB of GPU memory assumed (browsers do not report it)` };
    default:
      return { backend, bytes, deviceBytes: bytes, detail: `${total}; the cpu backend keeps tensors in the same memory` };
  }
}

/** A budget of `bytes` in all (tests, ?memoryBudget=): the device share is capped the same. */
export function fixedMemoryBudget(backend: string, bytes: number, detail = 'set by the caller'): MemoryBudget {
  return { backend, bytes, deviceBytes: bytes, detail };
}

/** The model's tensors as model.safetensors stores them, by the checkpoint reader's own reading of the header. */
function storedTensors(header: SafetensorsHeader): Map<string, StoredTensor> {
  return storedLayout('model.safetensors', header.metadata, header.infos);
}

/**
 * Memory of one representation. `header` null: only config.json is known (every tensor assumed stored dense).
 * Counts what the loader and SparseGpt allocate: see loadModelFolder and GpuWeights. A header whose compact pairs the
 * reader refuses throws that reader's CheckpointError here, before anything is downloaded.
 */
export function estimateRepresentation(
  c: ModelConfig, header: SafetensorsHeader | null, fileBytes: number | null, representation: WeightRepresentation, backend = 'wasm',
): RepresentationEstimate {
  const stored = header ? storedTensors(header) : null;
  const expected = expectedTensors(c);
  const known = new Set(expected.map((e) => e.name));
  let exact = stored !== null;
  let host = 0;
  let device = 0;
  let transposeScratch = 0;
  let compactFile = false;
  const add = (name: string, numel: number, nnz: number | null, uploaded: boolean, dims: number[] | null) => {
    if (nnz !== null) compactFile = true;
    if (representation === 'sparse' && isLinearWeight(name) && dims) {
      // CSR of W^T: column pointers (in + 1 int32) + row index (int32) and value (float32) per stored entry.
      host += (dims[1]! + 1) * 4 + (nnz ?? numel) * 8;
      // WebGPU's kernel (src/model/webgpuSparse.ts) keeps a GPU copy by output row: row pointers + index and value.
      // (Its column-wise copy, for gradients, is made only under tf.grad, which the sparse representation does not
      // run in the app.)
      if (backend === 'webgpu' && uploaded) device += (dims[0]! + 1) * 4 + (nnz ?? numel) * 8;
      return;
    }
    host += numel * 4;
    if (!uploaded) return;
    device += numel * 4;
    if (isLinearWeight(name)) transposeScratch = Math.max(transposeScratch, numel * 4);
  };
  for (const e of expected) {
    const numel = e.shape.reduce((a, b) => a * b, 1);
    const s = stored?.get(e.name);
    // A tied lm_head is wte (uploaded below); a stored copy is read but never used.
    const used = !(c.tiedUnembed && e.name === 'lm_head.weight');
    if (!s && (stored ? !e.required : !used)) continue;
    if (stored && !s) exact = false; // missing: the loader refuses the folder; count it as dense
    if (s && s.numel !== numel) exact = false; // wrong shape: the loader refuses; count the expected one
    add(e.name, numel, s && s.numel === numel ? s.nnz : null, used, used && e.shape.length === 2 ? e.shape : null);
  }
  // Tensors the config does not use are read (and kept) but never uploaded.
  for (const [name, s] of stored ?? []) if (!known.has(name)) add(name, s.numel, s.nnz, false, null);
  // Site means (means.safetensors, assumed present): kept on the host and uploaded for mean ablation.
  const means = allSites(c).reduce((n, site) => n + siteWidth(c, site), 0) * 4;
  host += means;
  device += means;
  // Tied unembedding: GpuWeights uploads a transposed copy of the (dense) wte as lm_head, in both representations.
  if (c.tiedUnembed) {
    device += c.vocabSize * c.dModel * 4;
    transposeScratch = Math.max(transposeScratch, c.vocabSize * c.dModel * 4);
  }
  let download = fileBytes ?? (header ? header.dataStart + header.infos.reduce((m, i) => Math.max(m, i.end), 0) : host);
  if (!exact && stored) download = Math.max(download, host);
  // A compact file's tensors are copied out of the download (which is then freed); a dense file's are views of it.
  const whileReading = compactFile || representation === 'sparse' ? download + host : Math.max(download, host);
  const whileUploading = host + device + transposeScratch;
  const scratch = 0;
  return {
    representation,
    weightBytes: host - means,
    hostBytes: host,
    deviceBytes: device,
    downloadBytes: download,
    steadyBytes: host + device,
    peakBytes: Math.max(whileReading, whileUploading),
    workingBytes: workingBytes(c, Math.min(WORKING_TOKENS, c.blockSize)) + scratch,
    scratchBytes: scratch,
    exact,
  };
}

export interface PlanOptions {
  budget: MemoryBudget;
  /** The loader's "oversized" guard on weight bytes (maxDenseBytes). */
  maxWeightBytes: number;
  representation?: RepresentationChoice;
  /** Held by the currently loaded model (it stays until the new one is ready). */
  heldBytes?: number;
  heldDeviceBytes?: number;
}

function shapeText(c: ModelConfig): string {
  return `n_layer=${c.nLayer}, d_model=${c.dModel}, d_mlp=${c.dMlp}, vocab_size=${c.vocabSize}${c.bigramTable ? ', with a bigram table' : ''}`;
}

/** Why an estimate does not fit, or null when it does. */
function misfit(e: RepresentationEstimate, o: PlanOptions, available: number, availableDevice: number): string | null {
  if (e.weightBytes > o.maxWeightBytes) return `its weights take ${formatBytes(e.weightBytes)}, over the ${formatBytes(o.maxWeightBytes)} weight budget`;
  if (e.peakBytes > available) return `it needs ${formatBytes(e.peakBytes)} at the peak of loading, over the ${formatBytes(available)} available`;
  const running = e.steadyBytes + e.workingBytes;
  if (running > available) {
    return `it needs ${formatBytes(running)} to run a ${WORKING_TOKENS}-token prompt, over the ${formatBytes(available)} available`;
  }
  if (e.deviceBytes + e.workingBytes > availableDevice) {
    return `it needs ${formatBytes(e.deviceBytes + e.workingBytes)} of ${o.budget.backend} backend memory to run a ${WORKING_TOKENS}-token prompt, over the ${formatBytes(availableDevice)} available there`;
  }
  return null;
}

/**
 * Picks the representation for this model on this backend, or throws CheckpointError explaining what it needs, what
 * is available and what would help. Auto: dense when it fits, except that a large model (dense weights over
 * SPARSE_PREFERRED_ABOVE) whose sparse form is at most a quarter of the dense one is kept sparse on cpu and wasm,
 * where the sparse matmul was measured faster (docs/model-folder.md, "Large models"); on webgl/webgpu dense wins
 * whenever it fits (a GPU matmul beats reading activations back for the JS kernel).
 */
export function planMemory(c: ModelConfig, header: SafetensorsHeader | null, fileBytes: number | null, o: PlanOptions): MemoryPlan {
  const dense = estimateRepresentation(c, header, fileBytes, 'dense', o.budget.backend);
  const sparse = estimateRepresentation(c, header, fileBytes, 'sparse', o.budget.backend);
  const held = o.heldBytes ?? 0;
  const available = Math.max(0, o.budget.bytes - held);
  const availableDevice = Math.max(0, o.budget.deviceBytes - (o.heldDeviceBytes ?? 0));
  const denseWhy = misfit(dense, o, available, availableDevice);
  const sparseWhy = misfit(sparse, o, available, availableDevice);
  const choice = o.representation ?? 'auto';
  const base = { dense, sparse, budget: o.budget, heldBytes: held, availableBytes: available };
  const covering = (e: RepresentationEstimate) => ({ prompt: promptCoverage(c, e, available, availableDevice) });
  const cpuLike = o.budget.backend === 'cpu' || o.budget.backend === 'wasm';
  const sparseWorthIt = dense.weightBytes > SPARSE_PREFERRED_ABOVE && sparse.steadyBytes * 4 <= dense.steadyBytes;

  if (choice === 'dense' && !denseWhy) return { ...base, representation: 'dense', estimate: dense, reason: 'dense (requested)', ...covering(dense) };
  if (choice === 'sparse' && !sparseWhy) return { ...base, representation: 'sparse', estimate: sparse, reason: 'sparse (requested)', ...covering(sparse) };
  if (choice === 'auto') {
    if (!sparseWhy && (denseWhy || (cpuLike && sparseWorthIt))) {
      const reason = denseWhy
        ? `linear weights kept sparse: dense, ${denseWhy}`
        : `linear weights kept sparse: ${formatBytes(sparse.steadyBytes)} instead of ${formatBytes(dense.steadyBytes)} dense, and faster on ${o.budget.backend}`;
      return { ...base, representation: 'sparse', estimate: sparse, reason, ...covering(sparse) };
    }
    if (!denseWhy) return { ...base, representation: 'dense', estimate: dense, reason: 'dense float32 weights', ...covering(dense) };
  }

  // Refused. The first sentence keeps the wording of the original "oversized" guard when that is what failed.
  const parts: string[] = [];
  if (dense.weightBytes > o.maxWeightBytes) {
    parts.push(`model is too large to load: its dense float32 weights need ${formatBytes(dense.weightBytes)}, over the ${formatBytes(o.maxWeightBytes)} budget (${shapeText(c)})`);
  } else {
    parts.push(`model is too large to load on the ${o.budget.backend} backend (${shapeText(c)}): dense, ${denseWhy ?? 'it was not requested'}`);
  }
  const sparseText = sparseWhy ?? 'it was not requested';
  parts.push(`with its linear weights kept sparse${sparse.exact ? '' : ' (counting tensors the header does not describe as dense)'}, ${sparseText}`);
  const heldText = held > 0 ? `, of which ${formatBytes(held)} is held by the model that stays loaded` : '';
  parts.push(`available: ${formatBytes(o.budget.bytes)} in all and ${formatBytes(o.budget.deviceBytes)} of ${o.budget.backend} backend memory (${o.budget.detail})${heldText}`);
  const help: string[] = [];
  const compactable = header !== null && [...storedTensors(header)].some(([k, s]) => isLinearWeight(k) && s.nnz === null);
  if (compactable) help.push('storing the weight matrices compactly (K.__indices / K.__values, as train/export.py writes them) so they can be kept sparse');
  if (choice !== 'auto') help.push('letting the loader choose the representation');
  if (!cpuLike && !sparseWhy) help.push('the wasm backend (?backend=wasm), where the sparse form runs fast');
  const fitsAlone = (e: RepresentationEstimate) => misfit(e, o, o.budget.bytes, o.budget.deviceBytes) === null;
  if (held > 0 && (fitsAlone(dense) || fitsAlone(sparse))) help.push('loading it in a fresh tab (the current model holds memory until the new one is ready)');
  help.push('a machine or browser with more memory, or a smaller model');
  return failWith(`${parts.join('; ')}. What would help: ${help.join('; ')}.`);
}

function failWith(message: string): never {
  throw new CheckpointError(message, { file: 'config.json' });
}

/** "512MB", "1.5GiB", "2e9" -> bytes (decimal MB/GB, binary MiB/GiB); null when absent or unreadable. */
export function parseByteSize(text: string | null | undefined): number | null {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$/i.exec(text ?? '');
  if (!m) return null;
  const unit = (m[2] ?? 'b').toLowerCase();
  const scale: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: GiB };
  const n = Number(m[1]) * scale[unit]!;
  return Number.isFinite(n) && n > 0 ? Math.round(n) : null;
}

/** "1,024" (the UI's number format, fixed so that messages do not depend on the browser's locale). */
export const tokenCount = (n: number) => n.toLocaleString('en-US');

/** The prompt length a plan covers, in words: "prompts up to 1,024 tokens" or "prompts up to 700 of the context's 1,024 tokens". */
export function describeCoverage(p: PromptCoverage): string {
  return p.limit === 'context' ? `prompts up to ${tokenCount(p.tokens)} tokens` : `prompts up to ${tokenCount(p.tokens)} of the context's ${tokenCount(p.contextTokens)} tokens`;
}

/**
 * One line for the UI, e.g. "sparse weights: 61.2 MiB (dense would need 1.72 GiB), peak 120.3 MiB while loading, covers
 * prompts up to 1,024 tokens (+2.07 GiB to run one that long), of 4.00 GiB available on wasm".
 */
export function describePlan(p: MemoryPlan): string {
  const mib = (n: number) => (n >= GiB ? `${(n / GiB).toFixed(2)} GiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);
  const other = p.representation === 'sparse' ? ` (dense would need ${mib(p.dense.steadyBytes)})` : p.sparse && p.dense.weightBytes > SPARSE_PREFERRED_ABOVE ? ` (sparse would need ${mib(p.sparse.steadyBytes)})` : '';
  return `${p.representation} weights: ${mib(p.estimate.steadyBytes)}${other}, peak ${mib(p.estimate.peakBytes)} while loading, ` +
    `covers ${describeCoverage(p.prompt)} (+${mib(p.prompt.bytes)} to run one that long), of ${mib(p.availableBytes)} available on ${p.budget.backend}`;
}
