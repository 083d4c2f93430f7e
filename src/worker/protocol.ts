import type { BackendChoice, BackendName } from '../model/backends/types';
import type { AblationMode, Intervention } from '../model/interventions';
import type { LayerRange } from '../model/layerRange';
import type { PromptCoverage, RepresentationChoice, WeightRepresentation } from '../model/memoryEstimate';
import type { PathedFile } from '../model/checkpoint/sources';
import type { CircuitFile, CircuitGranularity } from '../circuit/circuitSchema';
import type { TaskFile } from '../tasks/taskSchema';
import type { BuiltCustomTask, CustomTaskSpec } from '../tasks/customTask';
import type { ImportanceRequest, ImportanceResult } from './importance';
import type { TokenLookup } from './tokenLookup';
import type { MeansRequest, MeansTextCount, TextMeansInfo } from './siteMeansJob';

/**
 * Where a model folder comes from. Files are the user's picked or dropped files with their paths inside the picked
 * folder (model/checkpoint withPaths: a File's webkitRelativePath is lost on the way to the worker).
 */
export type ModelSource =
  | { kind: 'url'; baseUrl: string; id?: string }
  | { kind: 'files'; files: ReadonlyArray<File | PathedFile> };

/**
 * Progress of every long engine job, one union keyed on `kind`: the reply channel, the client and the stores narrow on
 * that one field, and a job kind added here is a compile error wherever progress is switched on.
 */
export type JobProgress = LoadProgress | StepProgress<'eval'> | StepProgress<'prune'> | StepProgress<'importance'> | StepProgress<'means'>;
export type ProgressKind = JobProgress['kind'];
export type ProgressOf<K extends ProgressKind> = Extract<JobProgress, { kind: K }>;

/** A model load: bytes of the file being read (a load has no step count until the header is read). */
export interface LoadProgress {
  kind: 'load';
  stage: string;
  file: string;
  loadedBytes: number;
  totalBytes: number | null;
  /** The memory plan, once made (before the weights are downloaded); repeated on later events. */
  memory?: ModelMemory;
}

/** How a model's weights are held and what that costs, for the UI (from src/model/memoryEstimate.ts's plan). */
export interface ModelMemory {
  representation: WeightRepresentation;
  backend: string;
  /** Estimated bytes held once loaded, and at the peak of loading, in the chosen representation. */
  steadyBytes: number;
  peakBytes: number;
  /** The same for the dense representation (and the sparse one, when possible). */
  denseSteadyBytes: number;
  sparseSteadyBytes: number | null;
  availableBytes: number;
  /** One line, e.g. "sparse weights: 93.2 MiB (dense would need 1.61 GiB), peak ... of 4.00 GiB available on wasm". */
  text: string;
  reason: string;
  /** The longest prompt the plan covers, and whether the context or the memory sets it (prompts beyond are refused). */
  prompt: PromptCoverage;
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
  /** How the weights are held and what that costs. */
  memory: ModelMemory;
  /** Null when pruning by edges works for this model, else why not (pruning by nodes works on every model). */
  edgePruneUnsupported: string | null;
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

/**
 * A job that counts steps: task evaluation (prompts), pruning (optimiser steps, then bisection probes), node or edge
 * importance (ablations), means from text (windows). `stage` is the line shown to the user.
 */
export interface StepProgress<K extends 'eval' | 'prune' | 'importance' | 'means' = 'eval' | 'prune' | 'importance' | 'means'> {
  kind: K;
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
 * A circuit's fitted calibration (the circuit file's logit_scale and logit_shift, docs/circuits.md): the two candidate
 * logits are multiplied by `scale` and `shift` is added to the logit of `reference` (the task's first target token,
 * taskLoss.referenceToken), i.e. per prompt d' = scale * d + (correct === reference ? shift : -shift).
 */
export interface VariantCalibration {
  scale: number;
  shift: number;
  reference: number;
}

/**
 * A model variant to compare (full model, circuit, current interventions): the intervention list it runs under and,
 * for task metrics only, the calibration applied to its logit differences (none: compared raw).
 */
export interface Variant {
  label: string;
  interventions: Intervention[];
  calibration?: VariantCalibration;
}

/** The prompt of a detailed run: text to tokenise, or ready token ids (task prompts). */
export type PromptInput = { text: string } | { tokens: number[] };

export interface DetailedVariantResult {
  label: string;
  /** The two target logits at the last position, when targets were given, and the token ids they are for (the page
   *  tells a stale answer from the tokens now chosen). */
  targets: { correct: number; alternative: number; ids: [number, number] } | null;
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
  /** Mean binary cross-entropy over the two target logits, over all prompts (after the calibration, if any). */
  loss: number;
  accuracy: number;
  /** correct - alternative logit per prompt (after the calibration, if any). */
  logitDiffs: Float32Array;
  /** The calibration that was applied, or null. */
  calibration: VariantCalibration | null;
  /** Loss and accuracy of the raw logits (the same as loss and accuracy when no calibration was applied). */
  uncalibrated: { loss: number; accuracy: number };
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
  | { id: number; type: 'init'; baseUrl: string; pinnedBackend: BackendName | null; memory?: EngineMemoryOptions }
  | { id: number; type: 'load'; source: ModelSource }
  | { id: number; type: 'predict'; prompt: string; topK: number; interventions: Intervention[] }
  | { id: number; type: 'cancel'; target: number }
  | { id: number; type: 'memory' }
  | { id: number; type: 'runDetailed'; input: PromptInput; variants: Variant[]; nodes: string[]; attentionLayers: number[]; targets: [number, number] | null; topK: number }
  | { id: number; type: 'evalTask'; prompts: TargetPrompt[]; variants: Variant[] }
  | { id: number; type: 'embedTop'; channel: number; k: number }
  | { id: number; type: 'prune'; task: TaskFile; ablation: AblationMode; steps: number; minimality?: boolean; control?: boolean; granularity?: CircuitGranularity; layers?: LayerRange | null; kCoef?: number }
  | { id: number; type: 'importance'; request: ImportanceRequest }
  | { id: number; type: 'buildTask'; spec: CustomTaskSpec }
  | { id: number; type: 'vocab' }
  | { id: number; type: 'lookupToken'; text: string }
  | { id: number; type: 'convertRelease'; files: PathedFile[] }
  | { id: number; type: 'countMeansText'; request: MeansRequest }
  | { id: number; type: 'computeMeans'; request: MeansRequest };

/** A user-defined task built with the loaded model's tokenizer, or every problem that stopped it. */
export type BuildTaskResult = { ok: true; built: BuiltCustomTask } | { ok: false; problems: string[] };

/** Overrides of the memory plan (URL parameters ?memoryBudget= and ?weights=; tests). */
export interface EngineMemoryOptions {
  /** Total bytes a model may use, instead of the backend's default budget. */
  budgetBytes?: number | null;
  representation?: RepresentationChoice;
}

/**
 * An OpenAI release converted in the worker (src/model/checkpoint/release): the model folder as a zip, which the page
 * loads like a picked zip and offers to save. `notes` are the conversion notes (also in the zip's model-card.json).
 */
export interface ConvertedReleaseZip {
  id: string;
  name: string;
  zip: Uint8Array;
  notes: string[];
}

/** The circuit a 'prune' request found (validated circuit file) and the wall time of the whole run. */
export interface PruneResult {
  circuit: CircuitFile;
  seconds: number;
}

/**
 * Means computed from text and installed in the loaded model: its summary now (hasMeans, the card's `means`), and
 * means.safetensors with that provenance, for "Save as model folder".
 */
export interface ComputedMeansResult {
  summary: ModelSummary;
  file: Uint8Array;
  info: TextMeansInfo;
}

export type EngineReply =
  | { id: number; type: 'progress'; progress: JobProgress }
  | { id: number; type: 'ok'; result: unknown }
  | { id: number; type: 'error'; message: string; cancelled?: boolean };

export interface EngineResults {
  init: BackendChoice;
  load: ModelSummary;
  predict: PredictResult;
  cancel: null;
  /** cachedTensors: of numTensors, those the task evaluation keeps between requests (stagedTaskEval.ts). */
  memory: { numTensors: number; numBytes: number; cachedTensors: number };
  runDetailed: DetailedResult;
  evalTask: TaskEvalResult;
  embedTop: { top: EmbedToken[]; bottom: EmbedToken[] };
  prune: PruneResult;
  importance: ImportanceResult;
  buildTask: BuildTaskResult;
  vocab: (string | null)[];
  lookupToken: TokenLookup;
  convertRelease: ConvertedReleaseZip;
  countMeansText: MeansTextCount;
  computeMeans: ComputedMeansResult;
}

/** The progress kind each request reports; requests not listed report none. */
interface RequestProgressKinds {
  load: 'load';
  /** A conversion reports as a load: it is the first part of one (the converted zip is loaded next). */
  convertRelease: 'load';
  evalTask: 'eval';
  prune: 'prune';
  importance: 'importance';
  computeMeans: 'means';
}

/** What a request's progress callback receives. */
export type EngineProgress<T extends EngineRequest['type']> = T extends keyof RequestProgressKinds ? ProgressOf<RequestProgressKinds[T]> : never;
