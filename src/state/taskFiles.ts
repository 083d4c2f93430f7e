import { z } from 'zod';
import { circuitFileSchema, type CircuitFile } from '../circuit/circuitSchema';
import { TASK_SPECS } from '../tasks/generators';
import { taskFileSchema, type TaskFile } from '../tasks/taskSchema';

/**
 * Reading a model folder's task suite (docs/model-folder.md): tasks/index.json lists the task names; without it,
 * model-card.json's "tasks" array is used, and failing that the folder is probed for the known task suite's files
 * (a static folder cannot be listed). Each task has tasks/<task>.json and, once pruned, circuits/<task>.json.
 */
const indexSchema = z.object({ tasks: z.array(z.string().regex(/^[a-z0-9_]+$/)) });

async function fetchJson(url: string): Promise<unknown | null> {
  const res = await fetch(url);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`${url} could not be fetched (HTTP ${res.status})`);
  try {
    return await res.json();
  } catch {
    // Dev servers answer unknown paths with index.html: treat non-JSON like a missing file.
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
    const res = await fetch(`${base}tasks/${name}.json`, { method: 'HEAD' }).catch(() => null);
    return res?.ok && (res.headers.get('content-type') ?? '').includes('json') ? name : null;
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
