import { CheckpointError } from '../errors';
import { normalizePath } from '../folderPaths';

/**
 * Which of the picked or dropped files are which part of an OpenAI circuit-sparsity release (the blob layout:
 * models/<m>/{final_model.pt, beeg_config.json}, tinypython/{encoder.json, vocab.bpe},
 * viz/<m>/mean_baseline_pretrain.pt, viz/<m>/<task>/<sweep>/<k>/viz_data.pt), told by file name so that loose files,
 * a dropped models/<m>/ folder or the whole release all work. A circuit may also be named viz_data.pkl, the name
 * OpenAI's README gives it; its reader goes by content (releaseViz.ts).
 */

export interface Named<T> {
  path: string;
  file: T;
}

export interface ReleaseFiles<T> {
  checkpoint: Named<T>;
  config: Named<T>;
  encoder: Named<T>;
  vocab: Named<T>;
  meansBaseline: Named<T> | null;
  viz: (Named<T> & { task: string })[];
  /** The released model's folder name (models/<m>/), or null for loose files. */
  modelDir: string | null;
}

const base = (p: string) => normalizePath(p).split('/').pop()!;
const isPt = (p: string) => /\.(pt|pth)$/i.test(p);
const isMeans = (p: string) => /^mean_baseline.*\.(pt|pth)$/i.test(base(p));
const isViz = (p: string) => /^viz_data\.(pt|pkl)$/.test(base(p));

/** Whether the files are release files (a checkpoint or a beeg_config.json, and no model folder's config.json). */
export function looksLikeRelease(paths: readonly string[]): boolean {
  if (paths.some((p) => base(p) === 'config.json')) return false;
  return paths.some((p) => base(p) === 'beeg_config.json' || (isPt(p) && !isMeans(p) && !isViz(p)));
}

/** The task of a viz file: viz/<model>/<task>/<sweep>/<k>/viz_data.pt (or .pkl), else the folder above it, else "task<i>". */
function vizTask(path: string, i: number): string {
  const parts = normalizePath(path).split('/');
  const task = parts.length >= 4 ? parts[parts.length - 4]! : parts.length >= 2 ? parts[parts.length - 2]! : `task${i + 1}`;
  return task.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

export function sortReleaseFiles<T>(files: readonly Named<T>[]): ReleaseFiles<T> {
  const fail = (msg: string): never => {
    throw new CheckpointError(msg);
  };
  const one = (what: string, pick: (p: string) => boolean, hint: string): Named<T> | null => {
    const hits = files.filter((f) => pick(f.path));
    if (hits.length > 1) fail(`found ${hits.length} ${what} files (${hits.map((h) => h.path).join(', ')}); drop the files of one released model`);
    if (hits.length === 0 && hint) fail(`no ${what} among the ${files.length} file(s) given: ${hint}`);
    return hits[0] ?? null;
  };
  const checkpoint = one('checkpoint (.pt)', (p) => isPt(p) && !isMeans(p) && !isViz(p), "a released model's final_model.pt is needed")!;
  const config = one('beeg_config.json', (p) => base(p) === 'beeg_config.json', 'it lies next to final_model.pt (models/<model>/beeg_config.json)')!;
  const tokHint = "the release's tinypython/ folder holds them; drop it together with the model's files";
  const encoder = one('encoder.json', (p) => base(p) === 'encoder.json', tokHint)!;
  const vocab = one('vocab.bpe', (p) => base(p) === 'vocab.bpe', tokHint)!;
  const meansBaseline = one('mean_baseline_pretrain.pt', isMeans, '');
  // In path order, so the converted folder (tasks/index.json, the card) does not depend on the order the browser lists them.
  const viz = files.filter((f) => isViz(f.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((f, i) => ({ ...f, task: vizTask(f.path, i) }));
  const seen = new Map<string, string>();
  for (const v of viz) {
    const prev = seen.get(v.task);
    if (prev) fail(`two viz files for task "${v.task}" (${prev} and ${v.path}); drop one`);
    seen.set(v.task, v.path);
  }
  const parts = normalizePath(checkpoint.path).split('/');
  return { checkpoint, config, encoder, vocab, meansBaseline, viz, modelDir: parts.length >= 2 ? parts[parts.length - 2]! : null };
}
