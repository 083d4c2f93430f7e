import { circuitFileSchema, type CircuitGranularity } from '../circuit/circuitSchema';
import { DEFAULT_CONTROL_SEED, runControl } from '../circuit/control';
import { installFastMatMulGrad } from '../circuit/fastMatMulGrad';
import { findCircuit } from '../circuit/findCircuit';
import { defaultKCoef, isValidKCoef } from '../circuit/suggestedKCoef';
import { DEFAULT_PRUNE_CONFIG, type PruneConfig, type PruneProgress } from '../circuit/prune';
import type { TaskFile } from '../tasks/taskSchema';
import { buildCustomTask, CustomTaskError } from '../tasks/customTask';
import { tf } from '../model/tfjs';
import { selectBackend } from '../model/backends/selectBackend';
import type { BackendChoice, BackendName } from '../model/backends/types';
import { SparseGpt } from '../model/forward';
import type { AblationMode, Intervention } from '../model/interventions';
import type { CsrPoolSupport } from '../model/csrPool';
import { checkLayerRange, type LayerRange } from '../model/layerRange';
import type { MemoryPlan } from '../model/memoryEstimate';
import { defaultSparseKernel } from '../model/sparseLinear';
import { countMatrixWeights, type WeightCounts } from '../model/weightCounts';
import type { LoadedCheckpoint } from '../model/weights';
import type { BpeTokenizer } from '../tokenizer/bpe';
import { loadFromSource } from './loadFromSource';
import { edgePruneUnsupported, engineBudget, modelMemory } from './modelMemory';
import { runDetailed, type DetailedRequest } from './detailedRun';
import { PromptRunCache } from './promptRunCache';
import { checkPromptLength } from './promptLimit';
import type {
  BuildTaskResult, ComputedMeansResult, DetailedResult, EngineMemoryOptions, ModelMemory, EmbedToken, LoadProgress, ModelSource, ProgressOf, ModelSummary, Prediction, PredictResult, PruneResult, TargetPrompt, TaskEvalResult, Variant,
} from './protocol';
import { computeImportance, ImportanceCache, importanceKey, type ImportanceRequest, type ImportanceResult } from './importance';
import { TaskEvaluator } from './stagedTaskEval';
import { topPredictions } from './topPredictions';
import { lookupToken, vocabTexts, type TokenLookup } from './tokenLookup';
import { computeTextMeans, countMeansText, type MeansRequest, type MeansTextCount } from './siteMeansJob';
import { NO_MEANS_WARNING } from '../model/checkpoint/means';

/** Pruning settings in the browser: those of `npm run prune` (scripts/lib/pruneCli.ts). */
export const BROWSER_PRUNE_CONFIG: PruneConfig = { ...DEFAULT_PRUNE_CONFIG, steps: 150, batchPairs: 8, bisectPrompts: 256 };
/** Test pairs the browser evaluates a found circuit on (the CLI's --test-pairs default). */
export const BROWSER_TEST_PAIRS = 100;

function pruneStage(p: PruneProgress): string {
  const name = p.phase === 'optimise' ? 'optimising masks' : p.phase === 'bisect' ? 'bisecting k' : p.phase === 'minimality' ? 'minimality pass' : 'calibrating';
  return `${name}${p.kept !== undefined ? ` · k ${p.kept}` : ''}${p.loss !== undefined ? ` · loss ${p.loss.toFixed(3)}` : ''}`;
}

interface LoadedModel {
  id: string;
  model: SparseGpt;
  checkpoint: LoadedCheckpoint;
  tokenizer: BpeTokenizer;
  card: unknown;
  warnings: string[];
  memory: MemoryPlan;
  /** Nonzero and total matrix entries, counted once at load (the summary and pruning defaults use them). */
  weights: WeightCounts;
}

/**
 * The model side of the app, free of postMessage so it can be driven from tests and CLIs. It owns the one
 * loaded model; a failed load never replaces it.
 */
export class Engine {
  private current: LoadedModel | null = null;
  backend: BackendChoice | null = null;
  private memoryOptions: EngineMemoryOptions = {};
  private evaluator: TaskEvaluator | null = null;
  /** The live view's runs of its prompt, kept per intervention list so a toggle reruns only what it changes. */
  private promptRuns: PromptRunCache | null = null;
  /** Finished importance jobs of the loaded model (importance.ts). */
  private readonly importanceCache = new ImportanceCache();
  /** How many threads the 'csr' sparse kernel has here, and why not more (set where a pool was started). */
  private csrThreads: CsrPoolSupport | null = null;

  async init(pinned: BackendName | null, memory: EngineMemoryOptions = {}): Promise<BackendChoice> {
    this.memoryOptions = memory;
    this.backend = await selectBackend({ pinned });
    return this.backend;
  }

  /** Records the CSR pool's size (csrPoolBrowser.ts) for the memory plan's status line. */
  useCsrThreads(support: CsrPoolSupport): void {
    this.csrThreads = support;
  }

  /** The status line's note on the sparse kernel: said once, with the plan, where the kernel is 'csr'. */
  private kernelNote(): string | null {
    const t = this.csrThreads;
    if (!t || defaultSparseKernel(this.backend?.active ?? tf.getBackend()) !== 'csr') return null;
    return t.reason ?? `sparse kernel on ${t.threads} threads`;
  }

  /**
   * Loads a model folder. Its memory is planned from config.json and the weights' header before the download
   * (src/model/memoryEstimate.ts): dense or sparse linear weights, or a refusal that names what it needs and has.
   */
  async load(source: ModelSource, onProgress: (p: LoadProgress) => void, signal: AbortSignal): Promise<ModelSummary> {
    const held = this.current?.memory.estimate;
    let memory: ModelMemory | undefined;
    const loaded = await loadFromSource(source, (p) => onProgress(memory ? { ...p, memory } : p), signal, {
      budget: engineBudget(this.backend?.active ?? tf.getBackend(), this.memoryOptions),
      representation: this.memoryOptions.representation,
      heldBytes: held?.steadyBytes ?? 0,
      heldDeviceBytes: held?.deviceBytes ?? 0,
      onPlan: (plan) => {
        memory = modelMemory(plan, this.kernelNote());
        onProgress({ kind: 'load', stage: 'planned', file: 'model.safetensors', loadedBytes: 0, totalBytes: null, memory });
      },
    });
    signal.throwIfAborted();
    const model = SparseGpt.fromCheckpoint(loaded.checkpoint);
    // Only now, with the new model fully built, does the old one go.
    const previous = this.current;
    this.current = {
      id: loaded.id, model, checkpoint: loaded.checkpoint, tokenizer: loaded.tokenizer, card: loaded.card, warnings: loaded.warnings,
      memory: loaded.memory, weights: countMatrixWeights(loaded.checkpoint),
    };
    this.evaluator?.dispose();
    this.evaluator = null;
    this.promptRuns?.dispose();
    this.promptRuns = null;
    this.importanceCache.clear();
    previous?.model.dispose();
    return this.summary();
  }

  summary(): ModelSummary {
    const cur = this.requireModel();
    const c = cur.checkpoint.config;
    const { nonzero, total } = cur.weights;
    return {
      id: cur.id, nLayer: c.nLayer, dModel: c.dModel, dMlp: c.dMlp, nHead: c.nHead, dHead: c.dHead,
      vocabSize: c.vocabSize, blockSize: c.blockSize, nonzeroWeights: nonzero, totalWeights: total,
      hasMeans: cur.checkpoint.means.size > 0, card: cur.card, warnings: cur.warnings,
      memory: modelMemory(cur.memory, this.kernelNote()), edgePruneUnsupported: edgePruneUnsupported(cur.memory),
    };
  }

  async predict(prompt: string, topK: number, interventions: Intervention[]): Promise<PredictResult> {
    const cur = this.requireModel();
    const t0 = performance.now();
    const ids = cur.tokenizer.encode(prompt);
    if (ids.length === 0) throw new Error('the prompt is empty: type some text to get predictions');
    checkPromptLength(ids.length, cur.memory.prompt, cur.memory.budget.backend);
    const out = await cur.model.run(ids, { interventions });
    const V = cur.checkpoint.config.vocabSize;
    const last = out.logits.subarray((ids.length - 1) * V, ids.length * V);
    const top: Prediction[] = topPredictions(last, topK).map((p) => ({ ...p, text: cur.tokenizer.tokenString(p.id) }));
    return {
      tokens: ids.map((id) => ({ id, text: cur.tokenizer.tokenString(id) })),
      top,
      millis: performance.now() - t0,
    };
  }

  /** One prompt under several variants, with node values and attention patterns (the explorer's live view). */
  runDetailed(req: DetailedRequest, signal: AbortSignal): Promise<DetailedResult> {
    const cur = this.requireModel();
    if (this.promptRuns?.model !== cur.model) {
      this.promptRuns?.dispose();
      this.promptRuns = new PromptRunCache(cur.model);
    }
    return runDetailed(this.promptRuns, cur.tokenizer, req, signal, (n) => checkPromptLength(n, cur.memory.prompt, cur.memory.budget.backend));
  }

  /** Task loss and accuracy of each variant over the given prompts; reports progress, cancellable. */
  evalTask(prompts: TargetPrompt[], variants: Variant[], onProgress: (p: ProgressOf<'eval'>) => void, signal: AbortSignal): Promise<TaskEvalResult> {
    return this.taskEvaluator().evaluate(prompts, variants, onProgress, signal);
  }

  /**
   * Each circuit node's (and listed edge's) effect on the task loss when also ablated, and the default core
   * (importance.ts); cached per model, task, circuit and ablation mode. Reports progress, cancellable.
   */
  importance(req: ImportanceRequest, onProgress: (p: ProgressOf<'importance'>) => void, signal: AbortSignal): Promise<ImportanceResult> {
    const cur = this.requireModel();
    const evaluator = this.taskEvaluator();
    return this.importanceCache.run(importanceKey(cur.id, req), () => computeImportance(
      async (variants, s, keep) => (await evaluator.evaluate(req.prompts, variants, () => {}, s, keep)).variants, req, onProgress, signal));
  }

  /** The incremental task evaluation (stagedTaskEval.ts): residual streams of earlier variants are kept per model, so a
   *  toggle recomputes only from the stage it changes, and the importance job starts from the circuit's. */
  private taskEvaluator(): TaskEvaluator {
    const cur = this.requireModel();
    if (this.evaluator?.model !== cur.model) {
      this.evaluator?.dispose();
      this.evaluator = new TaskEvaluator(cur.model);
    }
    return this.evaluator;
  }

  /** Tokens whose embedding (wte row) is largest and smallest in one residual channel: what writes into it at input. */
  embedTop(channel: number, k: number): { top: EmbedToken[]; bottom: EmbedToken[] } {
    const cur = this.requireModel();
    const wte = cur.checkpoint.tensors.get('transformer.wte.weight');
    const d = cur.checkpoint.config.dModel;
    if (!wte) throw new Error('this checkpoint has no token embedding');
    if (!(Number.isInteger(channel) && channel >= 0 && channel < d)) throw new Error(`channel ${channel} is outside d_model ${d}`);
    const V = wte.shape[0]!;
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => wte.data[b * d + channel]! - wte.data[a * d + channel]! || a - b);
    const view = (id: number): EmbedToken => ({ id, text: cur.tokenizer.tokenString(id), value: wte.data[id * d + channel]! });
    return { top: order.slice(0, k).map(view), bottom: order.slice(-k).reverse().map(view) };
  }

  /**
   * Finds a circuit for a task on the loaded model (pruneTask on its training pairs, then the circuit file evaluated
   * on at most BROWSER_TEST_PAIRS test pairs). Settings follow `npm run prune`'s defaults, the minimality pass included
   * unless `minimality` is false; `control` also runs the control on randomly flipped labels (control.ts), which
   * doubles the time; `layers` limits node pruning to a layer range (PruneConfig.layers). Node pruning runs on dense
   * and on sparse-kept weights; edge pruning needs dense ones. `kCoef` (the size penalty) defaults to the method's.
   * Reports progress, cancellable.
   */
  async prune(
    task: TaskFile,
    opts: { steps: number; ablation: AblationMode; minimality?: boolean; control?: boolean; granularity?: CircuitGranularity; layers?: LayerRange | null; kCoef?: number },
    onProgress: (p: ProgressOf<'prune'>) => void, signal: AbortSignal,
  ): Promise<PruneResult> {
    const cur = this.requireModel();
    const byEdges = opts.granularity === 'edges';
    const unsupported = byEdges ? edgePruneUnsupported(cur.memory) : null;
    if (unsupported) throw new Error(unsupported);
    const layers = opts.layers ?? null;
    if (layers && byEdges) throw new Error('a layer range limits pruning by nodes only; prune by edges over every layer');
    if (layers) checkLayerRange(cur.checkpoint.config, layers);
    if (!(Number.isInteger(opts.steps) && opts.steps >= 1)) throw new Error(`steps must be a positive whole number (got ${opts.steps})`);
    if (opts.kCoef !== undefined && !isValidKCoef(opts.kCoef)) throw new Error(`k_coef must be a number above 0 (got ${opts.kCoef})`);
    if (task.train.length === 0) throw new Error(`task ${task.task} has no training pairs`);
    installFastMatMulGrad();
    const t0 = performance.now();
    const cfg: PruneConfig = {
      ...BROWSER_PRUNE_CONFIG, kCoef: opts.kCoef ?? defaultKCoef(byEdges ? 'edges' : 'nodes', cur.weights).kCoef,
      steps: opts.steps, maskFill: opts.ablation, minimality: opts.minimality ?? true, layers,
    };
    const evalTask: TaskFile = { ...task, test: task.test.slice(0, BROWSER_TEST_PAIRS) };
    const find = (t: TaskFile, prefix: string) =>
      findCircuit(byEdges ? 'edges' : 'nodes', cur.model, t, { modelId: cur.id, backend: tf.getBackend(), config: cfg, lossAtKCount: 7 }, {
        signal,
        onProgress: (p: PruneProgress) => onProgress({ kind: 'prune', stage: prefix + pruneStage(p), done: p.done, total: p.total }),
        onEvaluating: () => onProgress({ kind: 'prune', stage: `${prefix}evaluating on test pairs`, done: 0, total: 1 }),
      });
    const file = await find(evalTask, '');
    signal.throwIfAborted();
    const control = opts.control ? await runControl(evalTask, DEFAULT_CONTROL_SEED, (flipped) => find(flipped, 'control (random labels): ')) : undefined;
    signal.throwIfAborted();
    const seconds = (performance.now() - t0) / 1000;
    const circuit = circuitFileSchema.parse({ ...file, ...(control ? { control } : {}), prune_config: { ...file.prune_config, found_in: 'browser', wall_seconds: seconds } });
    onProgress({ kind: 'prune', stage: 'done', done: 1, total: 1 });
    return { circuit, seconds };
  }

  /** A user-defined task (src/tasks/customTask.ts) with the loaded model's tokenizer and context length. */
  buildTask(spec: unknown): BuildTaskResult {
    const cur = this.requireModel();
    try {
      return { ok: true, built: buildCustomTask(spec, cur.tokenizer, cur.checkpoint.config.blockSize) };
    } catch (e) {
      if (e instanceof CustomTaskError) return { ok: false, problems: e.problems };
      throw e;
    }
  }

  /** Every token's display text by id, for naming and picking target tokens on the page. */
  vocab(): (string | null)[] {
    const cur = this.requireModel();
    return vocabTexts(cur.tokenizer, cur.checkpoint.config.vocabSize);
  }

  /** A typed target token: exactly one token of the loaded model's tokenizer, or the pieces it splits into. */
  lookupToken(text: string): TokenLookup {
    return lookupToken(this.requireModel().tokenizer, text);
  }

  /** The token count and windows the given text would give for means, or why it cannot (siteMeansJob.ts). */
  countMeansText(req: MeansRequest): MeansTextCount {
    const cur = this.requireModel();
    return countMeansText(cur.tokenizer, cur.checkpoint.config.blockSize, cur.memory.prompt.tokens, req);
  }

  /**
   * Per-channel means of every hook site over the given text (siteMeansJob.ts), installed in the loaded model so
   * that mean ablation works at once; the card records where they came from. Only for a model without means; a
   * failure or a cancel leaves the model as it was. Reports progress, cancellable.
   */
  async computeMeans(req: MeansRequest, onProgress: (p: ProgressOf<'means'>) => void, signal: AbortSignal): Promise<ComputedMeansResult> {
    const cur = this.requireModel();
    if (cur.checkpoint.means.size > 0) throw new Error('this model has its means already (means.safetensors)');
    // Where the memory plan limits the prompt length, one window per forward pass (its working memory was planned for one prompt).
    const batchWindows = cur.memory.prompt.limit === 'memory' ? 1 : undefined;
    const out = await computeTextMeans(cur.model, cur.tokenizer, req, { maxWindowTokens: cur.memory.prompt.tokens, batchWindows },
      (done, total) => onProgress({ kind: 'means', stage: `windows ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`, done, total }), signal);
    signal.throwIfAborted();
    cur.model.setMeans(out.means);
    cur.card = { ...(cur.card !== null && typeof cur.card === 'object' ? cur.card : {}), means: out.info };
    cur.warnings = cur.warnings.filter((w) => w !== NO_MEANS_WARNING);
    // Task metrics and importance computed so far never used means; drop them anyway so nothing mixes the two states.
    this.evaluator?.dispose();
    this.evaluator = null;
    this.promptRuns?.dispose();
    this.promptRuns = null;
    this.importanceCache.clear();
    return { summary: this.summary(), file: out.file, info: out.info };
  }

  memory(): { numTensors: number; numBytes: number; cachedTensors: number } {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes, cachedTensors: (this.evaluator?.heldTensors ?? 0) + (this.promptRuns?.heldTensors ?? 0) };
  }

  private requireModel(): LoadedModel {
    if (!this.current) throw new Error('no model is loaded yet');
    return this.current;
  }
}
