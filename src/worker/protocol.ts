import type { BackendChoice, BackendName } from '../model/backends/types';
import type { Intervention } from '../model/interventions';
import type { CircuitFile } from '../circuit/circuitSchema';
import type { TaskFile } from '../tasks/taskSchema';

/** Where a model folder comes from. Files are the user's picked or dropped files (paths kept for folders). */
export type ModelSource =
  | { kind: 'url'; baseUrl: string; id?: string }
  | { kind: 'files'; files: File[] };

export interface LoadProgress {
  stage: string;
  file: string;
  loadedBytes: number;
  totalBytes: number | null;
}

export interface ModelSummary {
  id: string;
  nLayer: number;
  dModel: number;
  dMlp: number;
  nHead: number;
  dHead: number;
  vocabSize: number;
  blockSize: number;
  nonzeroWeights: number;
  totalWeights: number;
  hasMeans: boolean;
  card: unknown;
  /** Problems that did not stop the load (e.g. no means: mean ablation unavailable). */
  warnings: string[];
}

export interface TokenView {
  id: number;
  text: string;
}

export interface Prediction {
  id: number;
  text: string;
  prob: number;
  logit: number;
}

export interface PredictResult {
  tokens: TokenView[];
  /** Top predictions for the token after the last prompt token. */
  top: Prediction[];
  millis: number;
}

/** Progress of a long computation (task evaluation), as opposed to a model load. */
export interface JobProgress {
  kind: 'job';
  stage: string;
  done: number;
  total: number;
}

/** One prompt of a task with its two target tokens (ids of the loaded model's tokenizer). */
export interface TargetPrompt {
  tokens: number[];
  correct: number;
  alternative: number;
}

/**
 * A model variant to compare (full model, circuit, current interventions): the intervention list it runs under.
 * Logits are compared raw: a circuit's fitted calibration (logit_scale/shift) is reported from its file, not applied.
 */
export interface Variant {
  label: string;
  interventions: Intervention[];
}

/** The prompt of a detailed run: text to tokenise, or ready token ids (task prompts). */
export type PromptInput = { text: string } | { tokens: number[] };

export interface DetailedVariantResult {
  label: string;
  /** The two target logits at the last position, when targets were given. */
  targets: { correct: number; alternative: number } | null;
  top: Prediction[];
  /** Value of every requested node at every position, packed [nodes.length * T] in the order of
   *  DetailedResult.nodes (one typed array crosses the worker boundary instead of one per node). */
  values: Float32Array;
  /** layer -> attention probabilities [H * T * T]. */
  attention: Record<number, Float32Array>;
}

export interface DetailedResult {
  tokens: TokenView[];
  /** The requested node ids, in the order of each variant's `values`. */
  nodes: string[];
  variants: DetailedVariantResult[];
  millis: number;
}

export interface TaskVariantMetrics {
  label: string;
  /** Mean binary cross-entropy over the two target logits, over all prompts. */
  loss: number;
  accuracy: number;
  /** correct - alternative logit per prompt. */
  logitDiffs: Float32Array;
}

export interface TaskEvalResult {
  prompts: number;
  variants: TaskVariantMetrics[];
  millis: number;
}

export interface EmbedToken {
  id: number;
  text: string;
  value: number;
}

/** Requests from the page to the engine worker. Every request carries an id; replies echo it. */
export type EngineRequest =
  | { id: number; type: 'init'; baseUrl: string; pinnedBackend: BackendName | null }
  | { id: number; type: 'load'; source: ModelSource }
  | { id: number; type: 'predict'; prompt: string; topK: number; interventions: Intervention[] }
  | { id: number; type: 'cancel'; target: number }
  | { id: number; type: 'memory' }
  | { id: number; type: 'runDetailed'; input: PromptInput; variants: Variant[]; nodes: string[]; attentionLayers: number[]; targets: [number, number] | null; topK: number }
  | { id: number; type: 'evalTask'; prompts: TargetPrompt[]; variants: Variant[] }
  | { id: number; type: 'embedTop'; channel: number; k: number }
  | { id: number; type: 'prune'; task: TaskFile; ablation: 'mean' | 'zero'; steps: number };

/** The circuit a 'prune' request found (validated circuit file) and the wall time of the whole run. */
export interface PruneResult {
  circuit: CircuitFile;
  seconds: number;
}

export type EngineReply =
  | { id: number; type: 'progress'; progress: LoadProgress | JobProgress }
  | { id: number; type: 'ok'; result: unknown }
  | { id: number; type: 'error'; message: string; cancelled?: boolean };

export interface EngineResults {
  init: BackendChoice;
  load: ModelSummary;
  predict: PredictResult;
  cancel: null;
  memory: { numTensors: number; numBytes: number };
  runDetailed: DetailedResult;
  evalTask: TaskEvalResult;
  embedTop: { top: EmbedToken[]; bottom: EmbedToken[] };
  prune: PruneResult;
}

/** What a request's progress callback receives. */
export type EngineProgress<T extends EngineRequest['type']> = T extends 'load' ? LoadProgress : JobProgress;
