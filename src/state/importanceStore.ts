import { create } from 'zustand';
import type { CoreMetrics, ImportanceResult } from '../worker/importance';
import type { ProgressOf } from '../worker/protocol';

/**
 * The importance list and core view (src/worker/importance.ts, docs/explorer.md "Importance and the core view"):
 * whether the panel is open (the job runs and the graph shows the core only while it is), the engine's answer for the
 * current model, task, circuit and mode, and the task metrics of the cores evaluated so far. The core's size is the
 * explorer setting `core` (explorerStore), so it travels with links and session files.
 */
export interface ImportanceState {
  open: boolean;
  /** importanceKey of the state `result` belongs to (and the job in flight is for). */
  key: string | null;
  result: ImportanceResult | null;
  progress: ProgressOf<'importance'> | null;
  /** Why there is no result ('cancelled' after Cancel: the job then waits for Rank instead of restarting). */
  error: string | null;
  /** The list shows nodes or edges. */
  show: 'nodes' | 'edges';
  /** Effects over all test pairs, or on the selected pair only. */
  scope: 'all' | 'pair';
  query: string;
  /** Loss and accuracy of the cores evaluated for `key`, by size (the job's probes and the slider's sizes). */
  cores: Record<number, CoreMetrics>;
  /** A core evaluation in flight, by size. */
  coreBusy: number | null;
  coreError: string | null;
}

export const useImportanceStore = create<ImportanceState>(() => ({
  open: false,
  key: null,
  result: null,
  progress: null,
  error: null,
  show: 'nodes',
  scope: 'all',
  query: '',
  cores: {},
  coreBusy: null,
  coreError: null,
}));
