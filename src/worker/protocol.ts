import type { BackendChoice, BackendName } from '../model/backends/types';
import type { Intervention } from '../model/interventions';

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

/** Requests from the page to the engine worker. Every request carries an id; replies echo it. */
export type EngineRequest =
  | { id: number; type: 'init'; baseUrl: string; pinnedBackend: BackendName | null }
  | { id: number; type: 'load'; source: ModelSource }
  | { id: number; type: 'predict'; prompt: string; topK: number; interventions: Intervention[] }
  | { id: number; type: 'cancel'; target: number }
  | { id: number; type: 'memory' };

export type EngineReply =
  | { id: number; type: 'progress'; progress: LoadProgress }
  | { id: number; type: 'ok'; result: unknown }
  | { id: number; type: 'error'; message: string; cancelled?: boolean };

export interface EngineResults {
  init: BackendChoice;
  load: ModelSummary;
  predict: PredictResult;
  cancel: null;
  memory: { numTensors: number; numBytes: number };
}
