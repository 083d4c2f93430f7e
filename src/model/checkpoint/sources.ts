import { CheckpointError } from './errors';

/** Files of a model folder (docs/model-folder.md) that the loader reads, as paths relative to the folder. */
export const FOLDER_FILES = [
  'config.json',
  'model.safetensors',
  'means.safetensors',
  'tokenizer/encoder.json',
  'tokenizer/vocab.bpe',
  'model-card.json',
] as const;
export type FolderFile = (typeof FOLDER_FILES)[number];

export type LoadStage = 'config' | 'weights' | 'means' | 'tokenizer' | 'validate';

export interface LoadProgressEvent {
  stage: LoadStage;
  /** Folder-relative path of the file being read (or checked). */
  file: string;
  loadedBytes: number;
  /** null when the size is not known in advance (no Content-Length, or a compressed response). */
  totalBytes: number | null;
}

export interface ReadOptions {
  stage: LoadStage;
  onProgress?: (e: LoadProgressEvent) => void;
  signal?: AbortSignal;
}

/** Where a model folder's files come from. `read` resolves to null when the folder has no such file. */
export interface FolderSource {
  /** For messages, e.g. the base URL or "the dropped files". */
  readonly label: string;
  read(file: FolderFile, opts: ReadOptions): Promise<Uint8Array | null>;
}

const PROGRESS_INTERVAL_MS = 50;

/**
 * Reads a stream to the end with progress events (at most every 50 ms, plus the first and the last) and abort
 * checks between chunks. With a known total the bytes go straight into one buffer.
 */
export async function readStreamWithProgress(
  stream: ReadableStream<Uint8Array>,
  totalBytes: number | null,
  file: string,
  opts: ReadOptions,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const emit = (loaded: number) => opts.onProgress?.({ stage: opts.stage, file, loadedBytes: loaded, totalBytes });
  const onAbort = () => void reader.cancel().catch(() => {});
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // Trust a declared size for preallocation only up to 1 GiB; beyond that (or without one) the buffer grows.
    let buf = new Uint8Array(totalBytes !== null && totalBytes <= 2 ** 30 ? totalBytes : 1 << 16);
    let loaded = 0;
    let lastEmit = 0;
    emit(0);
    for (;;) {
      opts.signal?.throwIfAborted();
      const { done, value } = await reader.read();
      opts.signal?.throwIfAborted();
      if (done) break;
      if (loaded + value.length > buf.length) {
        const grown = new Uint8Array(Math.max(buf.length * 2, loaded + value.length));
        grown.set(buf.subarray(0, loaded));
        buf = grown;
      }
      buf.set(value, loaded);
      loaded += value.length;
      const now = Date.now();
      if (now - lastEmit >= PROGRESS_INTERVAL_MS) {
        lastEmit = now;
        emit(loaded);
      }
    }
    emit(loaded);
    return loaded === buf.length ? buf : buf.slice(0, loaded);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
}

/**
 * A folder served over HTTP: the app's own `/models/<id>/` or any URL. 404 (and an HTML page where a data file should
 * be, as dev servers answer for missing files) means "no such file".
 */
export function urlSource(baseUrl: string, opts: { fetch?: typeof fetch } = {}): FolderSource {
  // Keep a query string (e.g. a signed URL) after the file name.
  const q = baseUrl.indexOf('?');
  const path = q < 0 ? baseUrl : baseUrl.slice(0, q);
  const query = q < 0 ? '' : baseUrl.slice(q);
  const base = path.endsWith('/') ? path : path + '/';
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  return {
    label: base + query,
    async read(file, ro) {
      const url = base + file + query;
      let res: Response;
      try {
        res = await doFetch(url, { signal: ro.signal });
      } catch (e) {
        if (ro.signal?.aborted) throw ro.signal.reason ?? e;
        throw new CheckpointError(`${file}: could not fetch ${url} (${(e as Error).message})`, { file, cause: e });
      }
      if (res.status === 404 || res.status === 410) return null;
      if (!res.ok) throw new CheckpointError(`${file}: could not fetch ${url}: HTTP ${res.status} ${res.statusText}`.trim(), { file });
      if ((res.headers.get('content-type') ?? '').startsWith('text/html')) {
        void res.body?.cancel().catch(() => {});
        return null;
      }
      const encoding = res.headers.get('content-encoding');
      const len = res.headers.get('content-length');
      const total = len !== null && (!encoding || encoding === 'identity') && /^\d+$/.test(len) ? Number(len) : null;
      if (!res.body) {
        const bytes = new Uint8Array(await res.arrayBuffer());
        ro.onProgress?.({ stage: ro.stage, file, loadedBytes: bytes.length, totalBytes: bytes.length });
        return bytes;
      }
      return readStreamWithProgress(res.body, total, file, ro);
    },
  };
}

/** A picked or dropped file with the path it had inside the picked folder (e.g. "m/tokenizer/encoder.json"). */
export interface PathedFile {
  path: string;
  file: Blob;
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1]!;
}

/**
 * Finds the entry for a folder file among named entries, by file name: a unique entry of that name wins; among several,
 * the one whose path ends with the folder-relative path (e.g. "tokenizer/vocab.bpe"); otherwise it is ambiguous.
 */
export function matchFolderFile<T>(entries: ReadonlyArray<{ path: string; value: T }>, file: FolderFile, label: string): T | null {
  const name = baseName(file);
  const hits = entries.filter((e) => baseName(e.path) === name);
  if (hits.length === 0) return null;
  if (hits.length === 1) return hits[0]!.value;
  const norm = (p: string) => p.replace(/\\/g, '/');
  const exact = hits.filter((e) => norm(e.path) === file || norm(e.path).endsWith('/' + file));
  if (exact.length === 1) return exact[0]!.value;
  throw new CheckpointError(
    `${file}: found ${hits.length} files named "${name}" in ${label} ` +
      `(${hits.map((h) => h.path).join(', ')}); pick the files of a single model folder`,
    { file },
  );
}

/**
 * User-picked or dropped files, matched by file name (config.json, model.safetensors, means.safetensors,
 * encoder.json, vocab.bpe, model-card.json). Folder picks keep their relative paths (webkitRelativePath).
 */
export function filesSource(files: Iterable<File | PathedFile>): FolderSource {
  const entries = [...files].map((f) => {
    if (f instanceof Blob) {
      const file = f as File;
      const path = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
      return { path, value: file as Blob };
    }
    return { path: f.path, value: f.file };
  });
  const label = 'the chosen files';
  return {
    label,
    async read(file, ro) {
      const blob = matchFolderFile(entries, file, label);
      if (!blob) return null;
      if (typeof blob.stream !== 'function') return new Uint8Array(await blob.arrayBuffer());
      return readStreamWithProgress(blob.stream() as ReadableStream<Uint8Array>, blob.size, file, ro);
    },
  };
}

/** In-memory files (tests, Node tools): path -> bytes or text, matched like picked files. */
export function mapSource(
  files: ReadonlyMap<string, Uint8Array | ArrayBuffer | string> | Record<string, Uint8Array | ArrayBuffer | string>,
  label = 'the in-memory folder',
): FolderSource {
  const pairs = files instanceof Map ? [...files.entries()] : Object.entries(files);
  const entries = pairs.map(([path, v]) => ({
    path,
    value: typeof v === 'string' ? new TextEncoder().encode(v) : v instanceof Uint8Array ? v : new Uint8Array(v),
  }));
  return {
    label,
    async read(file, ro) {
      ro.signal?.throwIfAborted();
      const bytes = matchFolderFile(entries, file, label);
      if (bytes) ro.onProgress?.({ stage: ro.stage, file, loadedBytes: bytes.length, totalBytes: bytes.length });
      return bytes;
    },
  };
}
