import { create } from 'zustand';
import type { BackendChoice } from '../model/backends/types';
import type { LoadProgress, ModelSummary, PredictResult } from '../worker/protocol';

export interface ModelIndexEntry {
  id: string;
  name: string;
  kind: 'sparse' | 'dense';
  default?: boolean;
  description?: string;
}

/** View state of the app shell. Engine calls live in ./actions.ts; this file only holds data. */
export interface AppState {
  backend: BackendChoice | null;
  backendError: string | null;
  models: ModelIndexEntry[];
  model: ModelSummary | null;
  /** URL of the loaded model's folder (for its tasks and circuits); null for models opened from files. */
  modelBase: string | null;
  loading: { label: string; progress: LoadProgress | null; requestId: number } | null;
  /** Last load / predict problem, shown until the next success; never clears the loaded model. */
  error: string | null;
  prompt: string;
  prediction: PredictResult | null;
  predicting: boolean;
}

export const useAppStore = create<AppState>(() => ({
  backend: null,
  backendError: null,
  models: [],
  model: null,
  modelBase: null,
  loading: null,
  error: null,
  prompt: 'def greet(name):\n    print("Hello, ',
  prediction: null,
  predicting: false,
}));
