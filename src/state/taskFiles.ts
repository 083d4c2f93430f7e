import { z } from 'zod';
import { folderHas, readOptionalJson } from '../model/checkpoint/folderRead';
import { urlSource, type FolderSource } from '../model/checkpoint/sources';
import { circuitFileSchema, type CircuitFile } from '../circuit/circuitSchema';
import { TASK_SPECS } from '../tasks/generators';
import { taskFileSchema, type TaskFile } from '../tasks/taskSchema';

/**
 * Reading a model folder's task suite (docs/model-folder.md): tasks/index.json lists the task names; without it,
 * model-card.json's "tasks" array is used, and failing that the folder is probed for the known task suite's files
 * (a static folder cannot be listed). Each task has tasks/<task>.json and, once pruned, circuits/<task>.json.
 * Every read goes through the folder's FolderSource, so a URL and a picked or dropped folder give the same answers.
 */
const indexSchema = z.object({ tasks: z.array(z.string().regex(/^[a-z0-9_]+$/)) });

/** A model folder: its reader, or the URL of one (ending in "/"). */
export type ModelFolder = FolderSource | string;

export function asFolder(folder: ModelFolder): FolderSource {
  return typeof folder === 'string' ? urlSource(folder) : folder;
}

export async function fetchTaskList(folder: ModelFolder, card: unknown): Promise<string[]> {
  const source = asFolder(folder);
  const index = await readOptionalJson(source, 'tasks/index.json');
  if (index !== null) {
    const r = indexSchema.safeParse(index);
    if (!r.success) throw new Error(`tasks/index.json is invalid: ${r.error.issues[0]?.message}`);
    return r.data.tasks;
  }
  const fromCard = indexSchema.safeParse(card);
  if (fromCard.success) return fromCard.data.tasks;
  const names = TASK_SPECS.map((t) => t.name);
  // A probe: any failure just means the task is not offered.
  const found = await Promise.all(names.map(async (name) => ((await folderHas(source, `tasks/${name}.json`).catch(() => false)) ? name : null)));
  return found.filter((n): n is string => n !== null);
}

export async function fetchTask(folder: ModelFolder, task: string): Promise<TaskFile> {
  const json = await readOptionalJson(asFolder(folder), `tasks/${task}.json`);
  if (json === null) throw new Error(`tasks/${task}.json is missing`);
  const r = taskFileSchema.safeParse(json);
  if (!r.success) throw new Error(`tasks/${task}.json is invalid: ${r.error.issues[0]?.message} at ${r.error.issues[0]?.path.join('.')}`);
  return r.data;
}

/** The task's circuit, or null when it has not been pruned yet. */
export async function fetchCircuit(folder: ModelFolder, task: string): Promise<CircuitFile | null> {
  const json = await readOptionalJson(asFolder(folder), `circuits/${task}.json`);
  if (json === null) return null;
  return parseCircuit(json, `circuits/${task}.json`);
}

export function parseCircuit(json: unknown, label: string): CircuitFile {
  const r = circuitFileSchema.safeParse(json);
  if (!r.success) throw new Error(`${label} is invalid: ${r.error.issues[0]?.message} at ${r.error.issues[0]?.path.join('.')}`);
  return r.data;
}
