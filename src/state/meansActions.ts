import { create } from 'zustand';
import type { FolderSource } from '../model/checkpoint/sources';
import { DEFAULT_MEANS_WINDOWS, DEFAULT_MEANS_WINDOW_TOKENS } from '../model/siteMeansDefaults';
import { zipWithMeans } from '../model/siteMeansFolder';
import type { ModelSummary, ProgressOf } from '../worker/protocol';
import type { MeansRequest, MeansText, MeansTextCount, TextMeansInfo } from '../worker/siteMeansJob';
import { engineClient } from './actions';
import { useAppStore } from './appStore';
import type { ConvertedFolder } from './releaseActions';

/**
 * "Compute means from text…" for a model without means.safetensors: the text the user pastes or the .py/.txt files
 * they pick, its token count (counted by the engine as the user types; newest wins), and the engine job that computes
 * the means and installs them in the loaded model (with progress and Cancel). On success the page's model summary says
 * it has means (the ablation-mode switch enables) and the means, with their provenance, go into "Save as model
 * folder"; a failure or a cancel changes nothing but the message.
 */

export interface ComputedMeans {
  /** The folder the means were computed for (appStore.modelFolder then): they belong to that load only. */
  folder: FolderSource;
  file: Uint8Array;
  info: TextMeansInfo;
}

export interface MeansState {
  open: boolean;
  pasted: string;
  /** Picked files in path order (the order the importer reads a folder of files in). */
  files: MeansText[];
  windows: number;
  windowTokens: number;
  /** The engine's count of the current input, for `countFor` (the summary it was counted on). */
  count: MeansTextCount | null;
  countFor: ModelSummary | null;
  /** The running job, if any. */
  job: { id: number; progress: ProgressOf<'means'> | null } | null;
  error: string | null;
  computed: ComputedMeans | null;
}

export const useMeansStore = create<MeansState>(() => ({
  open: false,
  pasted: '',
  files: [],
  windows: DEFAULT_MEANS_WINDOWS,
  windowTokens: DEFAULT_MEANS_WINDOW_TOKENS,
  count: null,
  countFor: null,
  job: null,
  error: null,
  computed: null,
}));

const store = useMeansStore;

function request(): MeansRequest {
  const s = store.getState();
  return { texts: [...s.files, { name: null, text: s.pasted }], windows: s.windows, windowTokens: s.windowTokens };
}

let countJob: number | null = null;
let countTimer: ReturnType<typeof setTimeout> | null = null;

/** Counts the input's tokens in the engine a moment after the last change (a long paste is tokenized once). */
function recount(delayMs = 250): void {
  if (countTimer) clearTimeout(countTimer);
  countTimer = setTimeout(() => {
    countTimer = null;
    const engine = engineClient();
    const model = useAppStore.getState().model;
    if (!engine || !model) return;
    if (countJob !== null) engine.cancel(countJob);
    const req = engine.request('countMeansText', { request: request() });
    countJob = req.id;
    req.result.then(
      (count) => { if (countJob === req.id) store.setState({ count, countFor: model }); },
      (e: Error) => { if (countJob === req.id && e.name !== 'AbortError') store.setState({ count: null, countFor: null, error: e.message }); },
    ).finally(() => { if (countJob === req.id) countJob = null; });
  }, delayMs);
}

/** Counts the input again now (the panel shows a count only for the model it was made on). */
export function recountMeans(): void {
  recount(0);
}

export function setMeansOpen(open: boolean): void {
  store.setState({ open, error: null });
  if (open) recount(0);
}

export function setMeansText(pasted: string): void {
  store.setState({ pasted, error: null });
  recount();
}

export function setMeansWindows(windows: number, windowTokens: number): void {
  store.setState({ windows, windowTokens, error: null });
  recount();
}

/**
 * Picked files, read as the importer reads a corpus file (UTF-8, invalid bytes replaced, a BOM kept as a character);
 * only .py and .txt files are taken, as the importer takes them from a folder.
 */
export async function pickMeansFiles(files: readonly File[]): Promise<void> {
  const taken = files.filter((f) => /\.(py|txt)$/i.test(f.name));
  const skipped = files.length - taken.length;
  const path = (f: File) => f.webkitRelativePath || f.name;
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const texts = await Promise.all(taken.map(async (f) => ({ name: path(f), text: decoder.decode(await f.arrayBuffer()) })));
  texts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  store.setState({
    files: texts,
    error: skipped ? `${skipped} picked file(s) left out: only .py and .txt files are read` : null,
  });
  recount(0);
}

export function clearMeansFiles(): void {
  store.setState({ files: [], error: null });
  recount(0);
}

/** Runs the job; on success the loaded model has means. */
export async function computeMeans(): Promise<void> {
  const engine = engineClient();
  const { model, modelFolder } = useAppStore.getState();
  if (!engine || !model || !modelFolder || store.getState().job) return;
  const req = engine.request('computeMeans', { request: request() }, (progress) => {
    const job = store.getState().job;
    if (job?.id === req.id) store.setState({ job: { id: req.id, progress } });
  });
  store.setState({ job: { id: req.id, progress: null }, error: null });
  try {
    const out = await req.result;
    // Only while the page still shows the model the means were computed for.
    if (useAppStore.getState().modelFolder === modelFolder) {
      store.setState({ computed: { folder: modelFolder, file: out.file, info: out.info }, open: false });
      useAppStore.setState({ model: out.summary });
    }
  } catch (e) {
    const err = e as Error;
    store.setState({ error: err.name === 'AbortError' ? 'computing the means was cancelled: the model is as it was (no means)' : `could not compute the means: ${err.message}` });
  } finally {
    if (store.getState().job?.id === req.id) store.setState({ job: null });
  }
}

export function cancelMeans(): void {
  const job = store.getState().job;
  const engine = engineClient();
  if (job && engine) engine.cancel(job.id);
}

/** The converted folder's zip to save: with the means computed in the page for it, when there are. */
export function convertedZipToSave(converted: ConvertedFolder): Uint8Array {
  const computed = store.getState().computed;
  if (!computed || computed.folder !== converted.folder) return converted.zip;
  return zipWithMeans(converted.zip, converted.fileName, computed.file, computed.info);
}
