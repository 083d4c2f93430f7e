import type { Intervention } from '../model/interventions';
import { useAppStore } from './appStore';
import { EMPTY_INTERVENTIONS, useExplorerStore } from './explorerStore';
import { initHistory } from './history';
import { useLiveStore } from './liveStore';
import { formatUrlState, parseUrlState, type MachineUrlState, type UrlState } from './urlState';
import { isCustomTaskId } from '../tasks/customTask';
import { registerCustomTask, useCustomTaskStore } from './customTaskStore';
import { settingsFromUrl, settingsToUrl, unknownKeysNotice } from './explorerSettings';

/** The link's state, read once at start; its problems are shown as notices. */
export function readUrl(): UrlState {
  const { state, problems, unknown } = parseUrlState(location.search);
  const notices = unknown.length ? [...problems, unknownKeysNotice(unknown, 'link key')] : problems;
  if (notices.length) useLiveStore.setState({ notices });
  return state;
}

/** This device's settings from the address bar (backend, memoryBudget, weights, pruneSteps); problems are reported by
 *  readUrl, which parses the same table. */
export function readMachineUrl(): MachineUrlState {
  return parseUrlState(location.search).machine;
}

/** Puts the link's explorer part into the store (before the model and task load, which then keep it). */
export function applyUrlState(s: UrlState): void {
  const iv: Intervention[] = s.iv ?? EMPTY_INTERVENTIONS;
  if (s.custom) registerCustomTask(s.custom);
  useExplorerStore.setState({
    pair: s.pair ?? null,
    side: s.side ?? 'a',
    node: s.node ?? null,
    pos: s.pos ?? null,
    iv: initHistory(iv),
    ...(s.mode ? { mode: s.mode } : {}),
    ...(s.view ? { view: s.view } : {}),
    ...settingsFromUrl(s),
  });
  if (s.prompt !== undefined && s.pair === undefined) useAppStore.setState({ prompt: s.prompt });
}

/** The current view as URL state (the prompt only when it is not a task pair's, which the pair index names). */
export function currentUrlState(): UrlState {
  const ex = useExplorerStore.getState();
  const app = useAppStore.getState();
  return {
    model: app.model?.id,
    task: ex.task ?? undefined,
    pair: ex.pair ?? undefined,
    side: ex.pair !== null ? ex.side : undefined,
    prompt: ex.pair === null ? app.prompt : undefined,
    node: ex.node ?? undefined,
    pos: ex.pos ?? undefined,
    iv: ex.iv.present,
    mode: ex.mode,
    view: ex.view,
    custom: isCustomTaskId(ex.task) ? useCustomTaskStore.getState().specs[ex.task] : undefined,
    ...settingsToUrl(ex),
  };
}

/** A link to the current view for someone else: this device's settings (machine-specific keys) are left out. */
export function shareableUrl(): string {
  return `${location.origin}${location.pathname}${formatUrlState(currentUrlState(), location.search, { share: true })}`;
}

/** Mirrors the state into the address bar (replaceState, so Back is not flooded), at most every 150 ms. */
export function startUrlSync(): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const write = () => {
    timer = null;
    if (!useAppStore.getState().model) return; // never overwrite the link before it has been applied
    const q = formatUrlState(currentUrlState(), location.search);
    if (q !== location.search) history.replaceState(null, '', `${location.pathname}${q}${location.hash}`);
  };
  const later = () => { if (!timer) timer = setTimeout(write, 150); };
  const subs = [useExplorerStore.subscribe(later), useAppStore.subscribe(later), useCustomTaskStore.subscribe(later)];
  return () => { subs.forEach((u) => u()); if (timer) clearTimeout(timer); };
}
