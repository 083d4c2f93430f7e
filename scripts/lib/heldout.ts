/** Reading the held-out Python files (train/data/files_heldout.jsonl: one JSON object per line with path and text). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SourceFile } from '../../src/tasks/generators';

export interface HeldOut {
  files: SourceFile[];
  /** sha256 of the manifest file as read, and the number of files. */
  sha256: string;
}

export function readHeldOut(path: string): HeldOut {
  const raw = readFileSync(path);
  const files: SourceFile[] = [];
  raw.toString('utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const row = JSON.parse(line) as { path?: unknown; package?: unknown; text?: unknown };
    if (typeof row.path !== 'string' || typeof row.text !== 'string') throw new Error(`${path}:${i + 1}: expected {path, text}`);
    files.push({ path: typeof row.package === 'string' ? `${row.package}/${row.path}` : row.path, text: row.text });
  });
  return { files, sha256: createHash('sha256').update(raw).digest('hex') };
}
