/**
 * Reading the held-out Python files (train/data/files_heldout.jsonl: one JSON object per line with path and text).
 * Several manifests are read in order as one list; the hash covers their bytes in that order.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SourceFile } from '../../src/tasks/corpus';

export interface HeldOut {
  files: SourceFile[];
  /** sha256 of the manifest files as read (concatenated in order). */
  sha256: string;
}

export function readHeldOut(paths: readonly string[]): HeldOut {
  const hash = createHash('sha256');
  const files: SourceFile[] = [];
  for (const path of paths) {
    const raw = readFileSync(path);
    hash.update(raw);
    files.push(...parseManifest(path, raw.toString('utf8')));
  }
  return { files, sha256: hash.digest('hex') };
}

function parseManifest(path: string, text: string): SourceFile[] {
  const files: SourceFile[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const row = JSON.parse(line) as { path?: unknown; package?: unknown; text?: unknown };
    if (typeof row.path !== 'string' || typeof row.text !== 'string') throw new Error(`${path}:${i + 1}: expected {path, text}`);
    files.push({ path: typeof row.package === 'string' ? `${row.package}/${row.path}` : row.path, text: row.text });
  });
  return files;
}
