/** Node access to public/models/: the model index and model folders read from disk. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { taskFileSchema, type TaskFile } from '../../src/tasks/taskSchema';

export const ROOT = resolve(import.meta.dirname, '../..');
export const MODELS_DIR = join(ROOT, 'public/models');

export interface IndexEntry {
  id: string;
  name?: string;
  kind?: string;
  [k: string]: unknown;
}

export function readIndex(): IndexEntry[] {
  const path = join(MODELS_DIR, 'index.json');
  if (!existsSync(path)) return [];
  const json = JSON.parse(readFileSync(path, 'utf8')) as { models?: IndexEntry[] };
  return json.models ?? [];
}

export function modelDir(id: string): string {
  if (!/^[\w.-]+$/.test(id)) throw new Error(`bad model id "${id}"`);
  const dir = join(MODELS_DIR, id);
  if (!existsSync(join(dir, 'config.json'))) throw new Error(`no model folder at ${dir} (config.json missing)`);
  return dir;
}

/** The files of a model folder that exist on disk, keyed by their folder-relative path (for mapSource). */
export function folderFiles(id: string): Map<string, Uint8Array> {
  const dir = modelDir(id);
  const files = new Map<string, Uint8Array>();
  for (const f of ['config.json', 'model.safetensors', 'means.safetensors', 'tokenizer/encoder.json', 'tokenizer/vocab.bpe', 'model-card.json']) {
    const p = join(dir, f);
    if (existsSync(p)) files.set(f, new Uint8Array(readFileSync(p)));
  }
  return files;
}

/**
 * A circuit file's path: the shipped public/models/<id>/circuits/<task>.json, or <dir>/<id>/<task>.json when `dir` is
 * a run folder as `npm run prune -- --out <dir>` lays it out.
 */
export function circuitFilePath(id: string, task: string, dir?: string): string {
  return dir ? join(dir, id, `${task}.json`) : join(modelDir(id), 'circuits', `${task}.json`);
}

/**
 * A model's task file (tasks/<task>.json, written by npm run make-tasks), validated, with its test pairs cut to the
 * first `testPairs` when given.
 */
export function readTask(id: string, task: string, testPairs?: number): TaskFile {
  const path = join(modelDir(id), 'tasks', `${task}.json`);
  if (!existsSync(path)) throw new Error(`no task "${task}" for ${id}: ${path} is missing (run npm run make-tasks first)`);
  const full = taskFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  return testPairs === undefined ? full : { ...full, test: full.test.slice(0, testPairs) };
}
