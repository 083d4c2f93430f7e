import { z } from 'zod';
import { fetchOptional } from '../model/checkpoint/optionalFile';
import { circuitFileSchema, type CircuitFile } from '../circuit/circuitSchema';
import { TASK_SPECS } from '../tasks/generators';
import { taskFileSchema, type TaskFile } from '../tasks/taskSchema';

/**
 * Reading a model folder's task suite (docs/model-folder.md): tasks/index.json lists the task names; without it,
 * model-card.json's "tasks" array is used, and failing that the folder is probed for the known task suite's files
 * (a static folder cannot be listed). Each task has tasks/<task>.json and, once pruned, circuits/<task>.json.
 */
const indexSchema = z.object({ tasks: z.array(z.string().regex(/^[a-z0-9_]+$/)) });

/** An optional JSON file of the folder, or null when absent (the one rule of model/checkpoint/optionalFile.ts). */
async function fetchJson(url: string): Promise<unknown | null> {
  const res = await fetchOptional(url);
  if (!res) return null;
  try {
    return await res.json();
  } catch {
    // A body that is not JSON (a fallback page served without a text/html type) counts as absent too.
    return null;
  }
}

export async function fetchTaskList(base: string, card: unknown): Promise<string[]> {
  const index = await fetchJson(`${base}tasks/index.json`);
  if (index !== null) {
    const r = indexSchema.safeParse(index);
    if (!r.success) throw new Error(`tasks/index.json is invalid: ${r.error.issues[0]?.message}`);
    return r.data.tasks;
  }
  const fromCard = indexSchema.safeParse(card);
  if (fromCard.success) return fromCard.data.tasks;
  const names = TASK_SPECS.map((t) => t.name);
  const found = await Promise.all(names.map(async (name) => {
    // A probe: any failure just means the task is not offered.
    const res = await fetchOptional(`${base}tasks/${name}.json`, { init: { method: 'HEAD' } }).catch(() => null);
    return res ? name : null;
  }));
  return found.filter((n): n is string => n !== null);
}

export async function fetchTask(base: string, task: string): Promise<TaskFile> {
  const json = await fetchJson(`${base}tasks/${task}.json`);
  if (json === null) throw new Error(`tasks/${task}.json is missing`);
  const r = taskFileSchema.safeParse(json);
  if (!r.success) throw new Error(`tasks/${task}.json is invalid: ${r.error.issues[0]?.message} at ${r.error.issues[0]?.path.join('.')}`);
  return r.data;
}

/** The task's circuit, or null when it has not been pruned yet. */
export async function fetchCircuit(base: string, task: string): Promise<CircuitFile | null> {
  const json = await fetchJson(`${base}circuits/${task}.json`);
  if (json === null) return null;
  return parseCircuit(json, `circuits/${task}.json`);
}

export function parseCircuit(json: unknown, label: string): CircuitFile {
  const r = circuitFileSchema.safeParse(json);
  if (!r.success) throw new Error(`${label} is invalid: ${r.error.issues[0]?.message} at ${r.error.issues[0]?.path.join('.')}`);
  return r.data;
}
