import { create } from 'zustand';
import { createStore } from 'zustand/vanilla';
import type { AblationMode, Intervention } from '../model/interventions';
import { initHistory, type History } from './history';

export type ViewMode = 'full' | 'circuit';
export type PairSide = 'a' | 'b';

/**
 * What the researcher is looking at and what they changed: the serialisable part of the explorer (URL, export).
 * Interventions are an immutable list under undo/redo; engine results live in liveStore.
 */
export interface ExplorerState {
  task: string | null;
  /** Index into the task's test pairs, or null for a free prompt. */
  pair: number | null;
  side: PairSide;
  /** Inspected node (`site:channel`). */
  node: string | null;
  /** Selected token position; null = the last token. */
  pos: number | null;
  iv: History<Intervention[]>;
  mode: AblationMode;
  view: ViewMode;
  /** Weight edges with |weight| below this are hidden (and counted as hidden); null = the graph's default, which
   *  hides only what a huge circuit could not draw. */
  edgeThreshold: number | null;
  /** The two token ids the target panel compares on a free prompt (the user's choice); null = the task's two targets.
   *  Ids of the loaded model's tokenizer, so a model change clears them. */
  targets: [number, number] | null;
  /** The core view's size: the graph shows the N most important circuit nodes (importance list); null = the default
   *  (src/circuit/core.ts: the whole circuit up to 40 nodes, else the smallest core within 0.05 of its loss). */
  core: number | null;
  /** The compare view: the id of the second model (a folder under models/) shown beside the loaded one on the same
   *  task and pair; null = off. */
  compare: string | null;
}

export const EMPTY_INTERVENTIONS: Intervention[] = [];

export const useExplorerStore = create<ExplorerState>(() => ({
  task: null,
  pair: null,
  side: 'a',
  node: null,
  pos: null,
  iv: initHistory(EMPTY_INTERVENTIONS),
  mode: 'mean',
  view: 'circuit',
  edgeThreshold: null,
  targets: null,
  core: null,
  compare: null,
}));

/**
 * Hover lives outside React: the graph subscribes to it imperatively (store.subscribe) and restyles SVG elements,
 * so moving the mouse never re-renders a component.
 */
export const hoverStore = createStore<{ node: string | null; edge: string | null }>(() => ({ node: null, edge: null }));
