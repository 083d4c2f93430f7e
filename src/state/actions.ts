import { z } from 'zod';
import type { BackendName } from '../model/backends/types';
import type { EngineClient } from '../worker/engineClient';
import type { EngineMemoryOptions, LoadProgress, ModelSource } from '../worker/protocol';
import { isPromptLengthError } from '../worker/promptLimit';
import type { PathedFile } from '../model/checkpoint/sources';
import { useAppStore, type AppState, type ModelIndexEntry, type ModelOrigin } from './appStore';
import { folderReader, localLoad, modelDisplayName } from './modelFolder';

const indexSchema = z.object({
  models: z.array(z.object({
    id: z.string().regex(/^[\w.-]+$/),
    name: z.string(),
    kind: z.enum(['sparse', 'dense']),
    default: z.boolean().optional(),
    description: z.string().optional(),
  })),
});

let engine: EngineClient | null = null;
const set = useAppStore.setState;
const get = useAppStore.getState;

/** The engine client, once started (null before). */
export function engineClient(): EngineClient | null {
  return engine;
}

export function modelsBaseUrl(): string {
  return `${import.meta.env.BASE_URL}models/`;
}

export async function startEngine(client: EngineClient, pinned: BackendName | null, memory: EngineMemoryOptions = {}): Promise<void> {
  engine = client;
  try {
    const backend = await client.request('init', { baseUrl: import.meta.env.BASE_URL, pinnedBackend: pinned, memory }).result;
    set({ backend });
  } catch (e) {
    set({ backendError: (e as Error).message });
  }
}

export async function fetchModelIndex(): Promise<ModelIndexEntry[]> {
  const res = await fetch(`${modelsBaseUrl()}index.json`);
  if (!res.ok) throw new Error(`models/index.json could not be fetched (HTTP ${res.status})`);
  const parsed = indexSchema.safeParse(await res.json());
  if (!parsed.success) throw new Error(`models/index.json is invalid: ${parsed.error.issues[0]?.message}`);
  set({ models: parsed.data.models });
  return parsed.data.models;
}

/**
 * Runs an engine job as the page's one load in progress: a load still running is cancelled, the job's progress shows
 * in the progress row under `shown` (where Cancel reaches it), and a failure or a cancel becomes the page's error
 * ("loading <label> was cancelled", "could not load <label>: ..."; `verb` 'convert' says converting). `then` runs
 * while the row still shows. Resolves to what `then` returns, or null when the job failed or was cancelled.
 */
export async function runAsLoad<R, O>(
  label: string, shown: string, verb: 'load' | 'convert',
  start: (engine: EngineClient, onProgress: (p: LoadProgress) => void) => { id: number; result: Promise<R> },
  then: (result: R) => O | Promise<O>,
): Promise<O | null> {
  if (!engine) return null;
  const prev = get().loading;
  if (prev) engine.cancel(prev.requestId);
  const req = start(engine, (progress) => {
    const cur = get().loading;
    if (cur?.requestId === req.id) set({ loading: { ...cur, progress } });
  });
  set({ loading: { label: shown, progress: null, requestId: req.id } });
  try {
    return await then(await req.result);
  } catch (e) {
    const err = e as Error;
    set({ error: err.name === 'AbortError' ? `${verb === 'load' ? 'loading' : 'converting'} ${label} was cancelled` : `could not ${verb} ${label}: ${err.message}`, errorFrom: 'load' });
    return null;
  } finally {
    if (get().loading?.requestId === req.id) set({ loading: null });
  }
}

/**
 * Loads a model into the engine; on success the page switches to it (its folder reader and its name for the model
 * menu), on failure the previous model stays and the message names what went wrong.
 */
export async function loadModel(source: ModelSource, label: string, from: ModelOrigin['kind'] = 'url'): Promise<boolean> {
  const loaded = await runAsLoad(label, label, 'load', (e, onProgress) => e.request('load', { source }, onProgress), async (model) => {
    const folder = folderReader(source);
    set({ model, modelFolder: folder, modelFrom: { kind: from, name: modelDisplayName(model.card, folder.name, model.id) }, prediction: null, error: null, errorFrom: null });
    await predict();
    return true;
  });
  return loaded ?? false;
}

/** Opens a picked or dropped model folder (or loose files) the way a URL load opens one. */
export function openLocalModel(files: Iterable<File | PathedFile>, how: 'picked' | 'dropped'): Promise<boolean> {
  const { source, label, kind } = localLoad(files, how);
  return loadModel(source, label, kind);
}

export function cancelLoad(): void {
  const cur = get().loading;
  if (cur && engine) engine.cancel(cur.requestId);
}

/** Counts predictions asked for: the "running…" state belongs to the newest one. */
let predictRequests = 0;

export async function predict(): Promise<void> {
  const model = get().model;
  if (!engine || !model) return;
  const prompt = get().prompt;
  const request = ++predictRequests;
  set({ predicting: true });
  // A newer prompt or model (another load, or this one with means computed) may have come meanwhile; it asks for its
  // own prediction, and only an answer for what is on screen is shown.
  const stillAsked = () => get().prompt === prompt && get().model === model;
  try {
    const prediction = await engine.request('predict', { prompt, topK: 10, interventions: [] }).result;
    if (stillAsked()) set({ prediction, promptProblem: null, ...clearPredictError() });
  } catch (e) {
    const message = (e as Error).message;
    // A prompt over a length limit is said at the prompt (its text stays as typed); other problems in the error line.
    if (stillAsked()) {
      set(isPromptLengthError(message)
        ? { prediction: null, promptProblem: message, ...clearPredictError() }
        : { prediction: null, error: message, errorFrom: 'predict', promptProblem: null });
    }
  } finally {
    if (request === predictRequests) set({ predicting: false });
  }
}

/** Clears the error line only when a prediction wrote it (a failed load's message stays until the next load). */
function clearPredictError(): Partial<AppState> {
  return get().errorFrom === 'predict' ? { error: null, errorFrom: null } : {};
}

export function setPrompt(prompt: string): void {
  set({ prompt });
}
