import { parseNodeId, parseSite } from '../model/sites';
import type { TaskFile } from '../tasks/taskSchema';
import type { EngineClient } from '../worker/engineClient';
import type { DetailedResult, DetailedVariantResult, PromptInput, TargetPrompt, TaskVariantMetrics, Variant } from '../worker/protocol';
import { engineClient } from './actions';
import { useAppStore } from './appStore';
import { useExplorerStore } from './explorerStore';
import { useLiveStore } from './liveStore';
import { currentPromptTargets } from './targetActions';
import { knownRow, rememberRow } from './metricRows';
import { encodeInterventions } from './urlCodec';
import { circuitNodeIds, comparisonVariants, taskMetricVariants } from './variants';

/** What the live answers depend on besides the prompt, as one string (shown as data attributes for tests). */
export function stateSignature(): string {
  const ex = useExplorerStore.getState();
  return `${ex.task}|${ex.mode}|${ex.view}|${encodeInterventions(ex.iv.present)}`;
}

/**
 * Keeps the engine's answers in step with the explorer state. Every change re-runs (a) the current prompt under
 * full / circuit / current and (b) the task metrics of what is not cached yet. Only the newest request matters:
 * an older one still running is cancelled, and a burst of changes in one tick becomes one request.
 */
interface Slot { id: number | null; key: string | null }
const detailedSlot: Slot = { id: null, key: null };
const evalSlot: Slot = { id: null, key: null };
let scheduled = false;

function updateBusy(): void {
  const busy = detailedSlot.id !== null || evalSlot.id !== null;
  if (useLiveStore.getState().busy !== busy) useLiveStore.setState({ busy });
}

export function startLiveRunner(): () => void {
  const subs = [
    useExplorerStore.subscribe(schedule),
    useAppStore.subscribe((s, p) => { if (s.model !== p.model || s.prompt !== p.prompt) schedule(); }),
    useLiveStore.subscribe((s, p) => { if (s.taskFile !== p.taskFile || s.circuit !== p.circuit || s.reference !== p.reference) schedule(); }),
  ];
  schedule();
  return () => subs.forEach((u) => u());
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    const engine = engineClient();
    if (!engine || !useAppStore.getState().model) return;
    runDetailed(engine);
    runEval(engine);
  });
}

export function currentInput(): PromptInput {
  const { pair, side } = useExplorerStore.getState();
  const prompt = useAppStore.getState().prompt;
  const p = pair !== null ? useLiveStore.getState().taskFile?.test[pair]?.[side] : undefined;
  return p && p.text === prompt ? { tokens: p.tokens } : { text: prompt };
}

/**
 * Answers for the prompt on screen, per intervention list, for as long as the prompt, the recorded nodes and the
 * targets stay the same: toggling an ablation then re-runs only "current", and toggling back re-runs nothing.
 */
const variantCache = { base: '', tokens: [] as DetailedResult['tokens'], nodes: [] as string[], byList: new Map<string, DetailedVariantResult>() };
/** The model the answers on screen were computed with. */
let detailedModel: unknown = null;
const CACHED_LISTS = 8;

function remember(list: string, v: DetailedVariantResult): void {
  const m = variantCache.byList;
  m.delete(list);
  m.set(list, v);
  while (m.size > CACHED_LISTS) m.delete(m.keys().next().value!);
}

function runDetailed(engine: EngineClient): void {
  const ex = useExplorerStore.getState();
  const lv = useLiveStore.getState();
  const variants = comparisonVariants(ex.view, lv.circuit, ex.mode, ex.iv.present);
  const nodes = [...new Set([...(lv.circuit ? circuitNodeIds(lv.circuit) : []), ...(ex.node ? [ex.node] : [])])];
  const layer = ex.node ? parseSite(parseNodeId(ex.node).site).layer : null;
  const rest = { input: currentInput(), nodes, attentionLayers: layer === null ? [] : [layer], targets: currentPromptTargets()?.ids ?? null, topK: 10 };
  if ('text' in rest.input && rest.input.text.length === 0) return;
  // Keyed by the loaded model object, not its id: a folder picked again after its weights were edited keeps its id.
  const base = JSON.stringify([objectIdentity(useAppStore.getState().model), rest]);
  if (base !== variantCache.base) Object.assign(variantCache, { base, byList: new Map() });
  const listKey = (v: Variant) => JSON.stringify(v.interventions);
  const need = variants.filter((v, i) => !variantCache.byList.has(listKey(v)) && variants.findIndex((w) => listKey(w) === listKey(v)) === i);
  const sig = stateSignature();
  const assemble = (): DetailedResult => {
    for (const v of variants) remember(listKey(v), variantCache.byList.get(listKey(v))!); // keep what is on screen
    return {
      tokens: variantCache.tokens, nodes: variantCache.nodes, millis: 0,
      variants: variants.map((v) => ({ ...variantCache.byList.get(listKey(v))!, label: v.label })),
    };
  };
  if (need.length === 0) {
    if (detailedSlot.id !== null) engine.cancel(detailedSlot.id);
    Object.assign(detailedSlot, { id: null, key: null });
    updateBusy();
    if (useLiveStore.getState().detailedFor !== sig) {
      detailedModel = useAppStore.getState().model;
      useLiveStore.setState({ detailed: assemble(), detailedFor: sig, detailedError: null });
    }
    return;
  }
  const key = JSON.stringify([base, need.map(listKey)]);
  if (key === detailedSlot.key) return;
  if (detailedSlot.id !== null) engine.cancel(detailedSlot.id);
  const req = engine.request('runDetailed', { ...rest, variants: need });
  Object.assign(detailedSlot, { id: req.id, key });
  updateBusy();
  req.result.then(
    (r) => {
      if (detailedSlot.id !== req.id || variantCache.base !== base) return;
      Object.assign(variantCache, { tokens: r.tokens, nodes: r.nodes });
      need.forEach((v, i) => remember(listKey(v), r.variants[i]!));
      detailedModel = useAppStore.getState().model;
      useLiveStore.setState({ detailed: { ...assemble(), millis: r.millis }, detailedFor: sig, detailedError: null });
    },
    (e: Error) => {
      if (detailedSlot.id !== req.id || e.name === 'AbortError') return;
      detailedSlot.key = null; // let the same state be retried after a fix elsewhere
      // The previous answers stay on screen for this model's prompt; another model's (its first run on a kept prompt
      // failed: longer than its context, say) are not shown against this one.
      const stale = detailedModel !== useAppStore.getState().model;
      useLiveStore.setState({ detailedError: e.message, ...(stale ? { detailed: null, detailedFor: null } : {}) });
    },
  ).finally(() => {
    if (detailedSlot.id === req.id) detailedSlot.id = null;
    updateBusy();
  });
}

export function taskPrompts(task: TaskFile): TargetPrompt[] {
  return task.test.flatMap((p) => [p.a, p.b]).map((q) => ({ tokens: q.tokens, correct: q.correct, alternative: q.alternative }));
}

// A number per object: a task reopened or redefined under the same name is a new file, a model loaded again (the same
// folder re-picked, say) a new model.
const objectIds = new WeakMap<object, number>();
let objectCount = 0;
function objectIdentity(o: object | null): number {
  if (!o) return 0;
  let id = objectIds.get(o);
  if (id === undefined) objectIds.set(o, (id = ++objectCount));
  return id;
}

function runEval(engine: EngineClient): void {
  const ex = useExplorerStore.getState();
  const lv = useLiveStore.getState();
  if (!lv.taskFile) {
    // No task (another model without it, or none at all): an evaluation still running belongs to the old one.
    if (evalSlot.id !== null) engine.cancel(evalSlot.id);
    Object.assign(evalSlot, { id: null, key: null });
    updateBusy();
    if (lv.evalProgress) useLiveStore.setState({ evalProgress: null });
    return;
  }
  const all = taskMetricVariants(ex.view, lv.circuit, ex.mode, ex.iv.present, lv.taskFile);
  const current = all[all.length - 1]!;
  const refKey = (v: Variant) => `${v.label}|${ex.mode}`;
  // With no user interventions "current" is the view's reference, whose metrics are cached.
  const viewRef = refKey(all.find((v) => v.label === (ex.view === 'circuit' && lv.circuit ? 'circuit' : 'full'))!);
  const trivial = ex.iv.present.length === 0;
  // Rows with the same content under the other mode (the full model's) are taken over, never evaluated again.
  const taskFile = lv.taskFile;
  const adopted = all.slice(0, -1).flatMap((v) => (lv.reference[refKey(v)] ? [] : [[refKey(v), knownRow(taskFile, v)] as const]))
    .filter((e): e is readonly [string, TaskVariantMetrics] => !!e[1]);
  const reference = { ...lv.reference, ...Object.fromEntries(adopted) };
  if (adopted.length) useLiveStore.setState({ reference });
  const missing = all.slice(0, -1).filter((v) => !reference[refKey(v)]);
  const currentKey = JSON.stringify([taskFile.task, current.interventions, current.calibration ?? null]);
  const needCurrent = !trivial && currentKey !== lv.currentKey;
  const sig = stateSignature();
  if (missing.length === 0 && !needCurrent) {
    // Nothing to compute: whatever is still running belongs to another state.
    if (evalSlot.id !== null) engine.cancel(evalSlot.id);
    Object.assign(evalSlot, { id: null, key: null });
    updateBusy();
    if (lv.currentFor !== sig || lv.evalProgress) {
      useLiveStore.setState({ current: trivial ? reference[viewRef]! : lv.current, currentKey, currentFor: sig, evalProgress: null });
    }
    return;
  }
  // The task file and the rows' content, not only their labels: another task or circuit asks for the same labels
  // ("full|mean"...), and must not be answered by the evaluation still running for the previous one.
  const key = JSON.stringify([objectIdentity(useAppStore.getState().model), objectIdentity(taskFile), missing.map((v) => [refKey(v), v.interventions, v.calibration ?? null]), needCurrent ? currentKey : null]);
  if (key === evalSlot.key) return;
  if (evalSlot.id !== null) engine.cancel(evalSlot.id);
  const variants = needCurrent ? [...missing, current] : missing;
  const req = engine.request('evalTask', { prompts: taskPrompts(taskFile), variants }, (evalProgress) => {
    if (evalSlot.id === req.id) useLiveStore.setState({ evalProgress });
  });
  Object.assign(evalSlot, { id: req.id, key });
  updateBusy();
  req.result.then(
    (r) => {
      if (evalSlot.id !== req.id) return;
      const reference = { ...useLiveStore.getState().reference };
      missing.forEach((v, i) => {
        reference[refKey(v)] = r.variants[i]!;
        rememberRow(taskFile, v, r.variants[i]!);
      });
      const cur = needCurrent ? r.variants[r.variants.length - 1]! : trivial ? reference[viewRef]! : useLiveStore.getState().current;
      useLiveStore.setState({ reference, current: cur, currentKey, currentFor: sig, evalProgress: null, evalError: null });
    },
    (e: Error) => {
      if (evalSlot.id !== req.id) return;
      evalSlot.key = null;
      useLiveStore.setState({ evalProgress: null, ...(e.name === 'AbortError' ? {} : { evalError: e.message }) });
    },
  ).finally(() => {
    if (evalSlot.id === req.id) evalSlot.id = null;
    updateBusy();
  });
}

/** Cancels the running task evaluation (the UI's Cancel button); the next change starts a new one. */
export function cancelEval(): void {
  const engine = engineClient();
  if (engine && evalSlot.id !== null) engine.cancel(evalSlot.id);
}
