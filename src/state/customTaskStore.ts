import { create } from 'zustand';
import { customTaskId, type BuiltCustomTask, type CustomTaskSpec } from '../tasks/customTask';
import { engineClient } from './actions';
import { useAppStore } from './appStore';

/**
 * User-defined tasks of this session (src/tasks/customTask.ts): their specs, by task id ("custom_<name>"), which
 * survive a model switch, and the task files built from them for the loaded model (token ids depend on its
 * tokenizer, so they are rebuilt when the model changes).
 */
export interface CustomTaskState {
  specs: Record<string, CustomTaskSpec>;
  built: Record<string, { modelId: string; result: BuiltCustomTask }>;
}

export const useCustomTaskStore = create<CustomTaskState>(() => ({ specs: {}, built: {} }));

/** Problems that stopped a user-defined task from being built (each one names the input at fault). */
export class CustomTaskProblems extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'CustomTaskProblems';
  }
}

/**
 * Keeps a spec (replacing one of the same name, whose built file is dropped unless `result` is the new one's, built for
 * the loaded model); returns its task id.
 */
export function registerCustomTask(spec: CustomTaskSpec, result?: BuiltCustomTask): string {
  const id = customTaskId(spec.name);
  const { specs, built } = useCustomTaskStore.getState();
  const { [id]: _old, ...rest } = built;
  const modelId = useAppStore.getState().model?.id;
  const fresh = result && modelId ? { [id]: { modelId, result } } : {};
  useCustomTaskStore.setState({ specs: { ...specs, [id]: spec }, built: { ...rest, ...fresh } });
  return id;
}

/** Builds a spec with the loaded model's tokenizer in the engine; throws CustomTaskProblems when it is not valid. */
export async function buildWithEngine(spec: CustomTaskSpec): Promise<BuiltCustomTask> {
  const engine = engineClient();
  if (!engine || !useAppStore.getState().model) throw new Error('no model is loaded yet');
  const r = await engine.request('buildTask', { spec }).result;
  if (!r.ok) throw new CustomTaskProblems(r.problems);
  return r.built;
}

/** The task file of a registered user-defined task for the loaded model (built once per model). */
export async function customTaskFile(id: string): Promise<BuiltCustomTask> {
  const spec = useCustomTaskStore.getState().specs[id];
  if (!spec) throw new Error(`the user-defined task "${id}" is not defined in this session`);
  const modelId = useAppStore.getState().model?.id ?? '';
  const have = useCustomTaskStore.getState().built[id];
  if (have && have.modelId === modelId) return have.result;
  const result = await buildWithEngine(spec);
  if (useCustomTaskStore.getState().specs[id] === spec) {
    useCustomTaskStore.setState({ built: { ...useCustomTaskStore.getState().built, [id]: { modelId, result } } });
  }
  return result;
}
