import { CheckpointError } from './errors';
import { fetchOptional, HttpStatusError, type OptionalFetchOptions } from './optionalFile';

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

/** The first bytes of a file, and its full size when the source knows it. */
export interface FileHead {
  bytes: Uint8Array;
  totalBytes: number | null;
}

/** Where a model folder's files come from. `read` resolves to null when the folder has no such file. */
export interface FolderSource {
  /** For messages, e.g. the base URL or "the dropped files". */
  readonly label: string;
  read(file: FolderFile, opts: ReadOptions): Promise<Uint8Array | null>;
  /**
   * The first `length` bytes of a file (fewer if it is shorter) without reading the rest: used to read the
   * safetensors header and plan memory before the download. Null when the folder has no such file. Optional.
   */
  readHead?(file: FolderFile, length: number, opts: { signal?: AbortSignal }): Promise<FileHead | null>;
}

/** Reads up to `length` bytes from the start of a stream, then cancels it. */
async function readStreamHead(stream: ReadableStream<Uint8Array>, length: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const out = new Uint8Array(length);
  let got = 0;
  try {
    while (got < length) {
      const { done, value } = await reader.read();
      if (done) break;
      const n = Math.min(value.length, length - got);
      out.set(value.subarray(0, n), got);
      got += n;
    }
  } finally {
    void reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  return got === length ? out : out.slice(0, got);
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

/** fetchOptional with its failures as CheckpointErrors that name the folder file; an abort stays an abort. */
async function fetchFolderFile(file: FolderFile, url: string, opts: OptionalFetchOptions, signal: AbortSignal | undefined): Promise<Response | null> {
  try {
    return await fetchOptional(url, opts);
  } catch (e) {
    if (e instanceof HttpStatusError) throw new CheckpointError(`${file}: could not fetch ${url}: HTTP ${e.status} ${e.statusText}`.trim(), { file });
    if (signal?.aborted) throw signal.reason ?? e;
    throw new CheckpointError(`${file}: could not fetch ${url} (${(e as Error).message})`, { file, cause: e });
  }
}

/**
 * A folder served over HTTP: the app's own `/models/<id>/` or any URL. A missing file reads as null by the one rule
 * for optional files (optionalFile.ts: 404, 410, or an HTML page where a data file should be).
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
      const res = await fetchFolderFile(file, url, { fetch: doFetch, init: { signal: ro.signal } }, ro.signal);
      if (!res) return null;
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
    async readHead(file, length, ro) {
      const url = base + file + query;
      // no-store: a cached partial response could otherwise be stitched into the later full read, which breaks on
      // servers that compress range responses (vite preview does).
      const init: RequestInit = { signal: ro.signal, cache: 'no-store', headers: { Range: `bytes=0-${length - 1}` } };
      const res = await fetchFolderFile(file, url, { fetch: doFetch, init, alsoAbsent: [416] }, ro.signal);
      if (!res) return null;
      // 206: "bytes 0-N/TOTAL"; a server that ignores Range answers 200 with the whole file (read only its head).
      const range = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
      const len = res.headers.get('content-length');
      const identity = !res.headers.get('content-encoding') || res.headers.get('content-encoding') === 'identity';
      const totalBytes = res.status === 206 ? (range ? Number(range[1]) : null) : len !== null && identity && /^\d+$/.test(len) ? Number(len) : null;
      const bytes = res.body ? await readStreamHead(res.body, length) : new Uint8Array(await res.arrayBuffer()).slice(0, length);
      return { bytes, totalBytes };
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
    async readHead(file, length) {
      const blob = matchFolderFile(entries, file, label);
      if (!blob) return null;
      return { bytes: new Uint8Array(await blob.slice(0, length).arrayBuffer()), totalBytes: blob.size };
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
    async readHead(file, length, ro) {
      ro.signal?.throwIfAborted();
      const bytes = matchFolderFile(entries, file, label);
      return bytes ? { bytes: bytes.subarray(0, length), totalBytes: bytes.length } : null;
    },
  };
}
