import type { CircuitFile } from '../circuit/circuitSchema';
import type { AblationMode } from '../model/interventions';
import type { TaskFile } from '../tasks/taskSchema';
import { coreIntervention, importanceKey, rankedEdges, targetPrompts, type CoreMetrics, type ImportanceRequest, type ImportanceResult } from '../worker/importance';
import type { ModelSummary } from '../worker/protocol';
import { engineClient } from './actions';
import { useAppStore } from './appStore';
import { useExplorerStore } from './explorerStore';
import { useImportanceStore } from './importanceStore';
import { useLiveStore } from './liveStore';
import { circuitNodeIds } from './variants';

/**
 * Runs the importance job for the circuit on screen while the importance panel is open (one job at a time; a change
 * of model, task, circuit or mode cancels it and starts the next), and evaluates the core the slider asks for (newest
 * wins). Results are keyed like the engine's cache (importanceKey), so an answer never lands on another state.
 */

interface Current { key: string; request: ImportanceRequest }
let memo: { model: ModelSummary; taskFile: TaskFile; circuit: CircuitFile; mode: AblationMode; value: Current } | null = null;

/** The importance job for what is on screen, or null when there is no circuit for the task. */
export function currentImportance(): Current | null {
  const model = useAppStore.getState().model;
  const { taskFile, circuit } = useLiveStore.getState();
  const mode = useExplorerStore.getState().mode;
  if (!model || !taskFile || !circuit || circuit.task !== taskFile.task || circuit.nodes.length === 0) return null;
  if (memo && memo.model === model && memo.taskFile === taskFile && memo.circuit === circuit && memo.mode === mode) return memo.value;
  const request: ImportanceRequest = {
    task: taskFile.task, prompts: targetPrompts(taskFile.test), nodes: circuitNodeIds(circuit), ...(circuit.layers ? { layers: circuit.layers } : {}), edges: rankedEdges(circuit), mode, core: true,
  };
  memo = { model, taskFile, circuit, mode, value: { key: importanceKey(model.id, request), request } };
  return memo.value;
}

/** The core size in effect: the user's (clamped to the circuit), else the default found by the job. */
export function coreSize(result: ImportanceResult, chosen: number | null): number {
  const total = result.nodes.length;
  return Math.max(1, Math.min(total, chosen ?? result.core?.size ?? total));
}

const store = useImportanceStore;
let job: { id: number; key: string } | null = null;
let coreJob: { id: number; key: string; n: number } | null = null;

function dropJobs(): void {
  const engine = engineClient();
  for (const j of [job, coreJob]) if (j && engine) engine.cancel(j.id);
  job = null;
  coreJob = null;
}

function sync(): void {
  const s = store.getState();
  const cur = s.open ? currentImportance() : null;
  if (!cur) {
    if (job || coreJob) {
      dropJobs();
      store.setState({ progress: null, coreBusy: null });
    }
    return;
  }
  if (cur.key !== s.key) {
    dropJobs();
    store.setState({ key: cur.key, result: null, progress: null, error: null, cores: {}, coreBusy: null, coreError: null });
    return sync();
  }
  const engine = engineClient();
  if (!engine) return;
  if (!s.result) {
    if (!job && s.error === null) startJob(cur);
    return;
  }
  const n = coreSize(s.result, useExplorerStore.getState().core);
  if (s.cores[n] || coreJob?.n === n) return;
  if (coreJob) engine.cancel(coreJob.id);
  const req = engine.request('evalTask', {
    prompts: cur.request.prompts, variants: [{ label: `core ${n}`, interventions: [coreIntervention(s.result.nodes, n, cur.request.mode, cur.request.layers)] }],
  });
  coreJob = { id: req.id, key: cur.key, n };
  store.setState({ coreBusy: n, coreError: null });
  req.result.then(
    (r) => {
      if (coreJob?.id !== req.id) return;
      coreJob = null;
      const m = r.variants[0]!;
      store.setState({ cores: { ...store.getState().cores, [n]: { n, loss: m.loss, accuracy: m.accuracy } }, coreBusy: null });
    },
    (e: Error) => {
      if (coreJob?.id !== req.id) return;
      coreJob = null;
      store.setState({ coreBusy: null, coreError: e.name === 'AbortError' ? null : e.message });
    },
  );
}

function startJob(cur: Current): void {
  const engine = engineClient()!;
  const req = engine.request('importance', { request: cur.request }, (progress) => {
    if (job?.id === req.id) store.setState({ progress });
  });
  job = { id: req.id, key: cur.key };
  store.setState({ progress: { kind: 'importance', stage: 'starting', done: 0, total: 1 } });
  req.result.then(
    (r) => {
      if (job?.id !== req.id) return;
      job = null;
      // The job's probes and the whole circuit are cores whose metrics are known already.
      const known: Record<number, CoreMetrics> = Object.fromEntries((r.core?.probes ?? []).map((p) => [p.n, p]));
      known[r.nodes.length] = { n: r.nodes.length, loss: r.circuit.loss, accuracy: r.circuit.accuracy };
      store.setState({ result: r, progress: null, cores: { ...known, ...store.getState().cores } });
    },
    (e: Error) => {
      if (job?.id !== req.id) return;
      job = null;
      store.setState({ progress: null, error: e.name === 'AbortError' ? 'cancelled' : e.message });
    },
  );
}

/** Follows the stores while the importance panel is mounted; returns the unsubscribe. */
export function startImportanceRunner(): () => void {
  const subs = [
    store.subscribe(sync),
    useLiveStore.subscribe((s, p) => { if (s.taskFile !== p.taskFile || s.circuit !== p.circuit) sync(); }),
    useAppStore.subscribe((s, p) => { if (s.model !== p.model) sync(); }),
    useExplorerStore.subscribe((s, p) => {
      // A link or session file that carries a core size opens the core view.
      if (s.core !== null && p.core === null && !store.getState().open) store.setState({ open: true });
      if (s.mode !== p.mode || s.core !== p.core) sync();
    }),
  ];
  if (useExplorerStore.getState().core !== null) store.setState({ open: true });
  sync();
  return () => {
    subs.forEach((u) => u());
    dropJobs();
  };
}

/** Opens the panel (the job starts) or closes it (a job in flight is cancelled; the core view and its size end). */
export function setImportanceOpen(open: boolean): void {
  if (!open) useExplorerStore.setState({ core: null });
  store.setState({ open });
}

export function cancelImportance(): void {
  const engine = engineClient();
  if (engine && job) engine.cancel(job.id);
}

/** Runs the job again after a cancel or an error. */
export function rankAgain(): void {
  store.setState({ error: null });
}

/** The slider: show the n most important nodes (n = the whole circuit ends the filtering). */
export function setCoreSize(n: number): void {
  useExplorerStore.setState({ core: Math.max(1, Math.round(n)) });
}
