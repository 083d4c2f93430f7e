import type { AblationMode } from '../model/interventions';
import { useAppStore } from './appStore';
import { setPrompt } from './actions';
import { EMPTY_INTERVENTIONS, useExplorerStore, type PairSide, type ViewMode } from './explorerStore';
import { commit, redo as redoH, reset as resetH, undo as undoH } from './history';
import { removeAt, toggleEdge, toggleNode, withMode } from './interventionOps';
import { useLiveStore } from './liveStore';
import { fetchCircuit, fetchTask, fetchTaskList } from './taskFiles';
import type { FolderSource } from '../model/checkpoint/sources';
import type { Intervention } from '../model/interventions';
import { makeSession, parseSession, type SessionFile } from './sessionFile';
import { formatSettings, parseSettings, settingsFromUrl } from './explorerSettings';
import { isCustomTaskId } from '../tasks/customTask';
import type { TaskFile } from '../tasks/taskSchema';
import type { CircuitFile } from '../circuit/circuitSchema';
import { customTaskFile, registerCustomTask, useCustomTaskStore } from './customTaskStore';

const ex = useExplorerStore;
const live = useLiveStore;
/** Counts task openings (and model switches): only the newest one may write the task it read. */
let taskRequest = 0;

/** What a shared link asks for once its task has loaded: a pair (or null = the link's free prompt), node and position. */
export interface TaskRestore {
  pair: number | null;
  side: PairSide;
  /** The link named an ablation mode: it wins over the mode the task's circuit was pruned with. */
  keepMode?: boolean;
}

/**
 * Lists the loaded model's tasks and opens `wanted` (or the first), restoring a selection when given: a link's, or
 * (`from` 'switch') the one on screen when another model was loaded.
 */
export async function loadTasks(wanted: string | null, restore?: TaskRestore, from: 'link' | 'switch' = 'link'): Promise<void> {
  const { modelFolder, model, prompt } = useAppStore.getState();
  // A task of the previous model still being read must not open on this one (its token ids may not even exist here).
  ++taskRequest;
  // Nothing the previous model computed stays on screen against this one.
  live.setState({
    tasks: [], taskFile: null, circuit: null, shippedCircuit: null, found: {}, pruneError: null, taskNotice: null, reference: {},
    current: null, currentKey: null, evalError: null, evalProgress: null, detailed: null, detailedFor: null, detailedError: null,
  });
  if (!modelFolder) return;
  const stillThisModel = () => useAppStore.getState().modelFolder === modelFolder;
  try {
    const tasks = await fetchTaskList(modelFolder, model?.card);
    if (!stillThisModel()) return; // another model was loaded meanwhile; its own loadTasks owns the panel
    live.setState({ tasks, taskNotice: tasks.length ? null : 'this model folder lists no tasks (tasks/index.json)' });
    const known = (t: string) => tasks.includes(t) || (isCustomTaskId(t) && !!useCustomTaskStore.getState().specs[t]);
    const pick = wanted && known(wanted) ? wanted : tasks[0];
    // A folder without tasks says just that (the notice above), whatever task the link or the previous model had open.
    const missing = wanted && !known(wanted) && (tasks.length > 0 || isCustomTaskId(wanted)) ? wanted : null;
    if (missing && from === 'switch') {
      live.setState({ taskNotice: `${model?.id ?? 'this model'} has no task "${missing}"; showing ${pick ?? 'none'}` });
    } else if (missing) {
      live.setState({
        taskNotice: isCustomTaskId(missing)
          ? `the link names the user-defined task "${missing}" but does not carry its definition (a long one does not fit in a link: share it with Export JSON)`
          : `the link names task "${missing}", which this model does not have`,
      });
    }
    // A free prompt is restored on any task; a pair only on the task it belongs to.
    // A prompt typed while the task list was read wins over the first pair, as one typed while the task loads does.
    if (pick) await selectTask(pick, pick === wanted || restore?.pair === null ? restore : undefined, prompt);
  } catch (e) {
    if (stillThisModel()) live.setState({ taskNotice: (e as Error).message });
  }
}

/** What the task panel says while a task has no circuit. */
export function noCircuitNotice(task: string): string {
  return isCustomTaskId(task)
    ? 'no circuit for this task yet: use Find circuit to prune one here'
    : `no circuit has been pruned for ${task} yet (circuits/${task}.json)`;
}

/** A task's file and shipped circuit: from the model folder, or built from a user-defined task's spec (no circuit). */
async function taskAndCircuit(base: FolderSource, task: string): Promise<[TaskFile, CircuitFile | null]> {
  if (isCustomTaskId(task)) return [(await customTaskFile(task)).task, null];
  return Promise.all([fetchTask(base, task), fetchCircuit(base, task)]);
}

/**
 * Opens a task: its file and circuit, then the restored selection or its first pair (node and position reset), unless
 * the prompt was edited after `promptAtStart` was read.
 */
export async function selectTask(task: string, restore?: TaskRestore, promptAtStart = useAppStore.getState().prompt): Promise<void> {
  const base = useAppStore.getState().modelFolder;
  if (!base) return;
  const request = ++taskRequest;
  // A prompt typed while the task was loading (since `promptAtStart`) wins over the task's first pair.
  try {
    const [taskFile, shipped] = await taskAndCircuit(base, task);
    // A later pick or another model superseded this one.
    if (request !== taskRequest || useAppStore.getState().modelFolder !== base) return;
    const circuit = live.getState().found[task]?.circuit ?? shipped;
    live.setState({
      taskFile, circuit, shippedCircuit: shipped, pruneError: null, reference: {}, current: null, currentKey: null,
      taskNotice: circuit ? null : noCircuitNotice(task),
    });
    // Study a circuit under the ablation it was pruned with, unless the user has already ablated something or the
    // link chose a mode.
    if (circuit && !restore?.keepMode && ex.getState().iv.present.length === 0 && (circuit.ablation === 'zero' || useAppStore.getState().model?.hasMeans)) {
      ex.setState({ mode: circuit.ablation });
    }
    if (restore) {
      ex.setState({ task }); // the link's settings (edge threshold...) were applied before the task loaded
      if (restore.pair === null) ex.setState({ pair: null });
      else selectPair(restore.pair < taskFile.test.length ? restore.pair : 0, restore.side, true);
      return;
    }
    ex.setState({ task, node: null, pos: null, edgeThreshold: null, core: null });
    if (useAppStore.getState().prompt !== promptAtStart) ex.setState({ pair: null });
    else selectPair(0, 'a');
  } catch (e) {
    if (request === taskRequest) live.setState({ taskFile: null, circuit: null, shippedCircuit: null, taskNotice: (e as Error).message });
  }
}

/** Shows one prompt of a test pair (its text goes into the prompt editor; its token ids are used as given). */
export function selectPair(pair: number, side: PairSide, keepPos = false): void {
  const t = live.getState().taskFile;
  const p = t?.test[pair];
  if (!p) return;
  ex.setState({ pair, side, ...(keepPos ? {} : { pos: null }) });
  setPrompt(p[side].text);
}

/** Typing a prompt leaves the pair unless the text is still the pair's. */
export function editPrompt(text: string): void {
  const { pair, side } = ex.getState();
  const p = pair !== null ? live.getState().taskFile?.test[pair] : undefined;
  if (p && p[side].text !== text) ex.setState({ pair: null, pos: null });
  setPrompt(text);
}

export function selectNode(node: string | null): void {
  ex.setState({ node });
}

export function selectPos(pos: number | null): void {
  ex.setState({ pos });
}

function edit(f: (list: Intervention[]) => Intervention[]): void {
  const s = ex.getState();
  ex.setState({ iv: commit(s.iv, f(s.iv.present)) });
}

export const ablateNode = (node: string) => edit((l) => toggleNode(l, node, ex.getState().mode));
export const ablateEdge = (source: string, target: string) => edit((l) => toggleEdge(l, source, target, ex.getState().mode));
export const removeIntervention = (i: number) => edit((l) => removeAt(l, i));
export const replaceInterventions = (list: Intervention[]) => edit(() => list);
export const undo = () => ex.setState({ iv: undoH(ex.getState().iv) });
export const redo = () => ex.setState({ iv: redoH(ex.getState().iv) });
export const resetInterventions = () => ex.setState({ iv: resetH(ex.getState().iv, EMPTY_INTERVENTIONS) });

/** The global ablation mode applies to new ablations and, as one undoable step, to the active ones. */
export function setMode(mode: AblationMode): void {
  const s = ex.getState();
  if (s.mode === mode) return;
  ex.setState({ mode, iv: commit(s.iv, withMode(s.iv.present, mode)) });
  live.setState({ reference: {} });
}

export function setView(view: ViewMode): void {
  ex.setState({ view });
}

export function setEdgeThreshold(t: number | null): void {
  ex.setState({ edgeThreshold: t === null ? null : Math.max(0, t) });
}

/** The session as JSON text (circuit + interventions + view). */
export function exportSession(): string {
  const s = ex.getState();
  const session = makeSession({
    model: useAppStore.getState().model?.id ?? null,
    task: s.task,
    mode: s.mode,
    view: s.view,
    interventions: s.iv.present,
    selection: { pair: s.pair, side: s.side, node: s.node, pos: s.pos, ...(s.pair === null ? { prompt: useAppStore.getState().prompt } : {}) },
    circuit: live.getState().circuit,
    customTask: isCustomTaskId(s.task) ? useCustomTaskStore.getState().specs[s.task] ?? null : null,
    settings: formatSettings(s),
  });
  return JSON.stringify(session, null, 1);
}

/**
 * Applies an exported session; on any problem nothing changes and the message is returned. A session that carries a
 * user-defined task defines it (replacing one of the same name) and opens it first.
 */
export async function importSession(text: string): Promise<string | null> {
  let session: SessionFile;
  try {
    session = parseSession(text);
  } catch (e) {
    return (e as Error).message;
  }
  if (session.custom_task) {
    const id = registerCustomTask(session.custom_task);
    if (session.task === id) {
      await selectTask(id);
      if (ex.getState().task !== id) return `the session's task "${id}" could not be opened: ${live.getState().taskNotice ?? 'unknown problem'}`;
    }
  }
  const s = ex.getState();
  if (session.task && session.task !== s.task) return `the session is for task "${session.task}"; pick that task first`;
  if (session.circuit) {
    live.setState({ circuit: session.circuit, reference: {}, current: null, currentKey: null });
    ex.setState({ edgeThreshold: null, core: null });
  }
  // Settings the file lacks go back to their defaults; bad or unknown ones are named in a notice, the rest apply.
  const settings = parseSettings(session.settings ?? {});
  if (settings.problems.length) live.setState({ notices: [...live.getState().notices, ...settings.problems] });
  ex.setState({
    mode: session.mode, view: session.view, iv: commit(s.iv, session.interventions), node: session.selection.node, pos: session.selection.pos,
    ...settingsFromUrl(settings.state, ex.getInitialState()),
  });
  if (session.selection.pair !== null) selectPair(session.selection.pair, session.selection.side, true);
  else if (session.selection.prompt !== undefined) {
    ex.setState({ pair: null });
    setPrompt(session.selection.prompt);
  }
  return null;
}
