import { create } from 'zustand';
import type { BackendChoice } from '../model/backends/types';
import type { FolderSource } from '../model/checkpoint/sources';
import type { LoadProgress, ModelSummary, PredictResult } from '../worker/protocol';

export interface ModelIndexEntry {
  id: string;
  name: string;
  kind: 'sparse' | 'dense';
  default?: boolean;
  description?: string;
}

/** 'url': a shipped model or a folder URL; 'picked': the folder or file picker; 'dropped': drag and drop. */
export interface ModelOrigin {
  kind: 'url' | 'picked' | 'dropped';
  name: string;
}

/** View state of the app shell. Engine calls live in ./actions.ts; this file only holds data. */
export interface AppState {
  backend: BackendChoice | null;
  backendError: string | null;
  models: ModelIndexEntry[];
  model: ModelSummary | null;
  /**
   * The loaded model's folder, for its tasks, circuits and snippets: the same reader for a URL and a picked or dropped
   * folder (src/model/checkpoint/sources.ts).
   */
  modelFolder: FolderSource | null;
  /** Where the loaded model came from and the name the model menu shows for it. */
  modelFrom: ModelOrigin | null;
  loading: { label: string; progress: LoadProgress | null; requestId: number } | null;
  /** Last load / predict problem, shown until the next success; never clears the loaded model. */
  error: string | null;
  /**
   * Which job set `error`. A prediction's answer clears only a prediction's error: the prompt is re-run after every
   * model change, and that answer must not erase the message of a folder load that failed meanwhile.
   */
  errorFrom: 'load' | 'predict' | null;
  prompt: string;
  /** Why the prompt was not run (longer than the model's context or its memory plan covers), shown at the prompt. */
  promptProblem: string | null;
  prediction: PredictResult | null;
  predicting: boolean;
}

export const useAppStore = create<AppState>(() => ({
  backend: null,
  backendError: null,
  models: [],
  model: null,
  modelFolder: null,
  modelFrom: null,
  loading: null,
  error: null,
  errorFrom: null,
  prompt: 'def greet(name):\n    print("Hello, ',
  promptProblem: null,
  prediction: null,
  predicting: false,
}));
