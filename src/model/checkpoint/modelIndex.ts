import { z } from 'zod';
import { CheckpointError } from './errors';

/** A model id is one safe URL path segment: it becomes `/models/<id>/`. */
const modelId = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-" (one path segment)');

export const modelIndexEntrySchema = z.object({
  id: modelId,
  name: z.string().min(1),
  kind: z.enum(['sparse', 'dense']),
  default: z.literal(true).optional(),
  description: z.string().optional(),
});

export const modelIndexSchema = z
  .object({ models: z.array(modelIndexEntrySchema) })
  .superRefine((idx, ctx) => {
    const seen = new Set<string>();
    idx.models.forEach((m, i) => {
      if (seen.has(m.id)) ctx.addIssue({ code: 'custom', path: ['models', i, 'id'], message: `duplicate id "${m.id}"` });
      seen.add(m.id);
    });
    if (idx.models.filter((m) => m.default).length > 1) {
      ctx.addIssue({ code: 'custom', path: ['models'], message: 'more than one model is marked default' });
    }
  });

export type ModelIndexEntry = z.infer<typeof modelIndexEntrySchema>;
export type ModelIndex = z.infer<typeof modelIndexSchema>;

/** Validates parsed index.json; throws CheckpointError listing every problem. */
export function parseModelIndex(json: unknown, file = 'models/index.json'): ModelIndex {
  const r = modelIndexSchema.safeParse(json);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new CheckpointError(`${file} is invalid: ${problems.join('; ')}`, { file });
  }
  return r.data;
}

/** The model marked default, else the first; null for an empty index. */
export function defaultModel(index: ModelIndex): ModelIndexEntry | null {
  return index.models.find((m) => m.default) ?? index.models[0] ?? null;
}

/** Base URL of a listed model's folder. */
export function modelBaseUrl(id: string, modelsRoot = '/models/'): string {
  return `${modelsRoot.endsWith('/') ? modelsRoot : modelsRoot + '/'}${encodeURIComponent(id)}/`;
}

/** Fetches and validates `/models/index.json` (or another URL). */
export async function fetchModelIndex(
  url = '/models/index.json',
  opts: { fetch?: typeof fetch; signal?: AbortSignal } = {},
): Promise<ModelIndex> {
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  let res: Response;
  try {
    res = await doFetch(url, { signal: opts.signal });
  } catch (e) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? e;
    throw new CheckpointError(`could not fetch the model list ${url} (${(e as Error).message})`, { file: url, cause: e });
  }
  if (!res.ok) throw new CheckpointError(`could not fetch the model list ${url}: HTTP ${res.status}`, { file: url });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${url} is not valid JSON (${(e as Error).message})`, { file: url });
  }
  return parseModelIndex(json, url);
}
