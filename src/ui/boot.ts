import { fetchModelIndex, loadModel, modelsBaseUrl, startEngine } from '../state/actions';
import { useAppStore } from '../state/appStore';
import { loadTasks, redo, setMode, undo } from '../state/explorerActions';
import { EMPTY_INTERVENTIONS, useExplorerStore } from '../state/explorerStore';
import { initHistory } from '../state/history';
import { startCompareRunner } from '../state/compareRunner';
import { startLiveRunner } from '../state/liveRunner';
import { startTheme } from '../state/themeStore';
import { applyUrlState, readMachineUrl, readUrl, startUrlSync } from '../state/urlSync';
import { EngineClient } from '../worker/engineClient';

let started = false;

/**
 * Starts the engine once, restores the shared link's view, loads the model it names (or the index's default, or a
 * model folder under models/<id>/ that the index does not list), then its tasks; from then on the engine follows
 * every state change and the address bar follows the state.
 */
export async function boot(): Promise<void> {
  if (started) return;
  started = true;
  startTheme();
  const link = readUrl();
  const settings = readMachineUrl();
  applyUrlState(link);
  let pendingTask: string | null = link.task ?? null;
  // A link that names a task restores its selection: its pair, or its free prompt, or else the first pair. A link with
  // a free prompt and no task keeps that prompt on whichever task opens first.
  const freePrompt = link.prompt !== undefined && link.pair === undefined;
  // A link's mode wins over the mode the task's circuit was pruned with.
  const keepMode = link.mode !== undefined;
  const restore = link.task !== undefined ? { pair: link.pair ?? (freePrompt ? null : 0), side: link.side ?? 'a', keepMode }
    : freePrompt ? { pair: null, side: 'a' as const, keepMode } : undefined;
  let first = true;
  useAppStore.subscribe((s, p) => {
    if (s.model === p.model || !s.model) return;
    // The same load, now with means computed from text (meansActions.ts): the view stays as it is.
    if (p.model && s.modelFolder === p.modelFolder) return;
    // Another model: the task and the pair (or the free prompt) stay where the new model has them; what names the old
    // model's nodes or tokens (interventions, selection, chosen targets, threshold) goes.
    const was = useExplorerStore.getState();
    const keep = !first && was.task ? { task: was.task, restore: { pair: was.pair, side: was.side } } : null;
    if (!first) useExplorerStore.setState({ task: null, node: null, pos: null, iv: initHistory(EMPTY_INTERVENTIONS), targets: null, edgeThreshold: null });
    if (!s.model.hasMeans) setMode('zero'); // mean ablation needs means.safetensors
    if (keep) void loadTasks(keep.task, keep.restore, 'switch');
    else void loadTasks(pendingTask, first ? restore : undefined);
    first = false;
    pendingTask = null;
  });
  // ?memoryBudget=512MB caps the memory a model may use (to try the refusal); ?weights=dense|sparse forces a representation.
  await startEngine(EngineClient.create(), settings.backend ?? null, {
    budgetBytes: settings.memoryBudget ?? null,
    representation: settings.weights ?? 'auto',
  });
  startLiveRunner();
  startCompareRunner(EngineClient.create);
  startUrlSync();
  window.addEventListener('keydown', onShortcut);
  let models: Awaited<ReturnType<typeof fetchModelIndex>> = [];
  try {
    models = await fetchModelIndex();
  } catch (e) {
    if (!link.model) {
      useAppStore.setState({ error: (e as Error).message, errorFrom: 'load' });
      return;
    }
  }
  const pick = models.find((m) => m.id === link.model) ?? (link.model ? { id: link.model, name: link.model } : undefined)
    ?? models.find((m) => m.default) ?? models[0];
  if (pick) await loadModel({ kind: 'url', baseUrl: `${modelsBaseUrl()}${pick.id}/`, id: pick.id }, pick.name);
}

/** Ctrl/Cmd+Z undoes an intervention, Ctrl/Cmd+Shift+Z or Ctrl+Y redoes; text fields keep their own undo. */
function onShortcut(e: KeyboardEvent): void {
  const t = e.target as HTMLElement | null;
  if (t && (t.tagName === 'TEXTAREA' || (t.tagName === 'INPUT' && (t as HTMLInputElement).type === 'text'))) return;
  if (!(e.ctrlKey || e.metaKey)) return;
  const k = e.key.toLowerCase();
  if (k === 'z' && !e.shiftKey) undo();
  else if ((k === 'z' && e.shiftKey) || k === 'y') redo();
  else return;
  e.preventDefault();
}
