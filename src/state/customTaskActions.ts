import { customTaskId, customTaskSpecSchema, type CustomTaskSpec } from '../tasks/customTask';
import { buildWithEngine, CustomTaskProblems, registerCustomTask } from './customTaskStore';
import { selectTask } from './explorerActions';
import { useExplorerStore } from './explorerStore';
import { useLiveStore } from './liveStore';

/**
 * Defines (or redefines) a user task and opens it: the spec is validated and built with the loaded model's tokenizer
 * first, so a bad definition changes nothing and comes back as a list of problems, each naming the input at fault.
 * Opening the task evaluates the full model on its test pairs (the metrics table); Find circuit then prunes on it.
 */
export async function defineCustomTask(input: unknown): Promise<string[] | null> {
  const parsed = customTaskSpecSchema.safeParse(input);
  if (!parsed.success) return parsed.error.issues.map((i) => i.message);
  const spec: CustomTaskSpec = parsed.data;
  const id = customTaskId(spec.name);
  if (useLiveStore.getState().tasks.includes(id)) return [`the model ships a task named ${id}; pick another name`];
  let built;
  try {
    built = await buildWithEngine(spec);
  } catch (e) {
    return e instanceof CustomTaskProblems ? e.problems : [(e as Error).message];
  }
  registerCustomTask(spec, built);
  // A circuit found for an earlier definition of this name does not belong to the new one.
  const { [id]: _stale, ...found } = useLiveStore.getState().found;
  useLiveStore.setState({ found });
  await selectTask(id);
  if (useExplorerStore.getState().task !== id) return [useLiveStore.getState().taskNotice ?? `the task ${id} could not be opened`];
  return null;
}
