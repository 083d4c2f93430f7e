import type { CircuitFile } from '../circuit/circuitSchema';
import { isCustomTaskId } from '../tasks/customTask';
import type { TaskFile } from '../tasks/taskSchema';
import type { EngineClient } from '../worker/engineClient';
import type { ModelSummary } from '../worker/protocol';
import { loadModel, modelsBaseUrl } from './actions';
import { useAppStore } from './appStore';
import { useCompareStore, type CompareSide } from './compareStore';
import { useExplorerStore } from './explorerStore';
import { taskPrompts } from './liveRunner';
import { fetchCircuit, fetchTask } from './taskFiles';
import { taskMetricVariants } from './variants';

/**
 * Keeps the compare view's second model in step with the explorer: a second engine worker (the same engine, another
 * instance, so the loaded model is never unloaded) loads the model `compare` names, reads that model's copy of the
 * explorer's task and its circuit, and evaluates its full model and circuit over the task's test pairs under the
 * explorer's ablation mode. Changing the task or mode re-evaluates (the newest request wins; the older one is
 * cancelled); changing the pair only moves the pair shown. The worker starts on the first use and stays.
 */
let engine: EngineClient | null = null;
let engineReady: Promise<void> | null = null;
let load: { id: string; done: Promise<ModelSummary> } | null = null;
let evalJob: { key: string; id: number } | null = null;
let generation = 0;

const cache = new Map<string, NonNullable<CompareSide['metrics']>>();

/** Turns the compare view on with a second model (its id under models/), or off (null). */
export function setCompare(id: string | null): void {
  useExplorerStore.setState({ compare: id });
}

/**
 * Makes the compared model the loaded one and compares with the one that was loaded: the explorer keeps its task and
 * pair where the new model has them (ui/boot.ts). False when the load failed (the previous model stays).
 */
export async function swapCompared(): Promise<boolean> {
  const { compare } = useExplorerStore.getState();
  const app = useAppStore.getState();
  const was = app.model?.id;
  if (!compare || !was || app.modelFrom?.kind !== 'url') return false;
  const name = app.models.find((m) => m.id === compare)?.name ?? compare;
  const ok = await loadModel({ kind: 'url', baseUrl: `${modelsBaseUrl()}${compare}/`, id: compare }, name);
  if (ok) useExplorerStore.setState({ compare: was });
  return ok;
}

export function startCompareRunner(createEngine: () => EngineClient): () => void {
  const run = () => void sync(createEngine).catch(() => { /* reported in the store by sync itself */ });
  const subs = [
    useExplorerStore.subscribe((s, p) => { if (s.compare !== p.compare || s.task !== p.task || s.mode !== p.mode || s.pair !== p.pair) run(); }),
    useAppStore.subscribe((s, p) => { if (s.backend !== p.backend) run(); }),
  ];
  run();
  return () => subs.forEach((u) => u());
}

function blank(id: string): CompareSide {
  return { id, model: null, loading: false, error: null, task: null, circuit: null, pair: null, metrics: null, evalProgress: null };
}

async function sync(createEngine: () => EngineClient): Promise<void> {
  const { compare, task, mode, pair } = useExplorerStore.getState();
  const gen = ++generation;
  const current = () => useCompareStore.getState().other;
  const write = (p: Partial<CompareSide>) => {
    const cur = current();
    useCompareStore.setState({ other: { ...(cur?.id === compare ? cur : blank(compare!)), ...p } });
  };
  // A newer change owns the store from here on.
  const patch = (p: Partial<CompareSide>) => {
    if (gen === generation && compare) write(p);
  };
  if (!compare) {
    if (evalJob && engine) engine.cancel(evalJob.id);
    evalJob = null;
    if (current()) useCompareStore.setState({ other: null });
    return;
  }
  const backend = useAppStore.getState().backend;
  if (!backend) return; // the loaded model's engine picks the backend first; this one runs on the same
  if (!engine) {
    engine = createEngine();
    const e = engine;
    engineReady = e.request('init', { baseUrl: import.meta.env.BASE_URL, pinnedBackend: backend.active, memory: {} }).result.then(() => undefined);
  }
  const client = engine;

  let model: ModelSummary;
  try {
    await engineReady;
    if (load?.id !== compare) {
      patch({ loading: true, model: null, error: null, circuit: null, metrics: null, evalProgress: null });
      const req = client.request('load', { source: { kind: 'url', baseUrl: `${modelsBaseUrl()}${compare}/`, id: compare } });
      load = { id: compare, done: req.result };
    }
    model = await load.done;
  } catch (e) {
    if (load?.id === compare) load = null; // try again on the next change
    patch({ loading: false, model: null, error: `could not load ${compare}: ${(e as Error).message}` });
    return;
  }
  if (gen !== generation) return;
  patch({ loading: false, model });
  if (!task) return patch({ task: null, circuit: null, metrics: null, pair: null });
  if (isCustomTaskId(task)) return patch({ task, circuit: null, metrics: null, pair: null, error: 'a user-defined task exists on the loaded model only' });

  let taskFile: TaskFile;
  let circuit: CircuitFile | null;
  const base = `${modelsBaseUrl()}${compare}/`;
  try {
    [taskFile, circuit] = await Promise.all([fetchTask(base, task), fetchCircuit(base, task)]);
  } catch (e) {
    return patch({ task, circuit: null, metrics: null, pair: null, error: `${compare} has no task ${task} (${(e as Error).message})` });
  }
  if (gen !== generation) return;
  const samePair = pair !== null && pair < taskFile.test.length ? pair : null;
  patch({ task, circuit, pair: samePair, error: circuit ? null : `${compare} has no circuit for ${task} (circuits/${task}.json)` });

  const variants = taskMetricVariants('circuit', circuit, mode, [], taskFile).filter((v) => v.label !== 'current');
  const stateKey = (s: { compare: string | null; task: string | null; mode: string }) => JSON.stringify([s.compare, s.task, s.mode]);
  const key = stateKey({ compare, task, mode });
  const known = cache.get(key);
  if (known) return patch({ metrics: known, evalProgress: null });
  if (evalJob?.key === key) return; // already running for this state
  if (evalJob) client.cancel(evalJob.id);
  // The answer belongs to the state it was asked for, however many changes (a pair, say) came since.
  const stillWanted = () => stateKey(useExplorerStore.getState()) === key && current()?.id === compare;
  const req = client.request('evalTask', { prompts: taskPrompts(taskFile), variants }, (evalProgress) => {
    if (evalJob?.id === req.id && stillWanted()) write({ evalProgress });
  });
  evalJob = { key, id: req.id };
  patch({ metrics: null, evalProgress: null });
  try {
    const r = await req.result;
    const metrics = { full: r.variants.find((v) => v.label === 'full') ?? null, circuit: r.variants.find((v) => v.label === 'circuit') ?? null };
    cache.set(key, metrics);
    if (evalJob?.id === req.id) evalJob = null;
    if (stillWanted()) write({ metrics, evalProgress: null });
  } catch (e) {
    if (evalJob?.id === req.id) evalJob = null;
    if ((e as Error).name !== 'AbortError' && stillWanted()) write({ evalProgress: null, error: `evaluating ${compare} on ${task} failed: ${(e as Error).message}` });
  }
}
