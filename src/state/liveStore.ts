import { create } from 'zustand';
import type { CircuitFile } from '../circuit/circuitSchema';
import type { TaskFile } from '../tasks/taskSchema';
import type { DetailedResult, ProgressOf, TaskVariantMetrics } from '../worker/protocol';

/** Task data of the loaded model and the engine's latest answers for the current explorer state. */
export interface LiveState {
  tasks: string[];
  taskFile: TaskFile | null;
  circuit: CircuitFile | null;
  /** Why tasks or the circuit could not be shown (missing file, invalid JSON...). */
  taskNotice: string | null;
  detailed: DetailedResult | null;
  /** stateSignature() of the state `detailed` and `current` were computed for (tests wait for these to catch up). */
  detailedFor: string | null;
  currentFor: string | null;
  detailedError: string | null;
  /** Full model and circuit metrics over the test pairs (they depend only on task, circuit and mode). */
  reference: Record<string, TaskVariantMetrics>;
  /** Metrics under the current interventions, and the key of the state they belong to. */
  current: TaskVariantMetrics | null;
  currentKey: string | null;
  evalProgress: ProgressOf<'eval'> | null;
  /** A live request is in flight (answers on screen may be about to change). */
  busy: boolean;
  evalError: string | null;
  /** Notices about the shared link (ignored keys) or an import. */
  notices: string[];
  /** The circuit shipped with the model for the current task (what "back to the shipped circuit" restores). */
  shippedCircuit: CircuitFile | null;
  /** Circuits found in this browser for the loaded model, by task; they replace the shipped one while present. */
  found: Record<string, { circuit: CircuitFile; seconds: number }>;
  /** A "Find circuit" run in flight: its task and latest progress. */
  pruneJob: { task: string; progress: ProgressOf<'prune'> | null } | null;
  pruneError: string | null;
}

export const useLiveStore = create<LiveState>(() => ({
  tasks: [],
  taskFile: null,
  circuit: null,
  taskNotice: null,
  detailed: null,
  detailedFor: null,
  currentFor: null,
  detailedError: null,
  reference: {},
  current: null,
  currentKey: null,
  evalProgress: null,
  busy: false,
  evalError: null,
  notices: [],
  shippedCircuit: null,
  found: {},
  pruneJob: null,
  pruneError: null,
}));
