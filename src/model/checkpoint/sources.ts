import { CheckpointError } from './errors';
import { folderLookup } from './folderPaths';
import { fetchOptional, HttpStatusError, type OptionalFetchOptions } from './optionalFile';

export { FOLDER_FILES, type FolderFile } from './folderPaths';

/** 'extras': files read after the load, on demand (tasks/, circuits/, snippets.safetensors). */
export type LoadStage = 'config' | 'weights' | 'means' | 'tokenizer' | 'validate' | 'extras';

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

/**
 * Where a model folder's files come from: the one interface behind a URL, a picked or dropped local folder and an
 * in-memory map, so the loader, the task list, circuits and snippets read every source through the same code.
 * `read` resolves to null when the folder has no such file (over HTTP by the one rule of optionalFile.ts); whether a
 * missing file is an error is the caller's call (readRequired in folderRead.ts).
 */
export interface FolderSource {
  /** For messages, e.g. the base URL or "the folder m/". */
  readonly label: string;
  /** The folder's own name when known (a picked folder's name, a URL's last part): names a model without a card. */
  readonly name?: string | null;
  /** Any folder-relative path: "config.json", "tasks/index.json", "circuits/<task>.json", "snippets.safetensors". */
  read(path: string, opts: ReadOptions): Promise<Uint8Array | null>;
  /**
   * The first `length` bytes of a file (fewer if it is shorter) without reading the rest: used to read the
   * safetensors header and plan memory before the download. Null when the folder has no such file. Optional.
   */
  readHead?(path: string, length: number, opts: { signal?: AbortSignal }): Promise<FileHead | null>;
  /** Whether the folder has a file, without reading it (probing for task files). Optional: read() answers it too. */
  has?(path: string, opts?: { signal?: AbortSignal }): Promise<boolean>;
}

/** Reads up to `length` bytes from the start of a stream, then cancels the rest, if any. */
async function readStreamHead(stream: ReadableStream<Uint8Array>, length: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const out = new Uint8Array(length);
  let got = 0;
  let done = false;
  try {
    while (got < length) {
      const r = await reader.read();
      if (r.done) { done = true; break; }
      const n = Math.min(r.value.length, length - got);
      out.set(r.value.subarray(0, n), got);
      got += n;
    }
    // A range answer of exactly `length` bytes ends here: see the end, so the browser counts the request as finished
    // rather than aborted. A server that sent the whole file gets the rest cancelled.
    if (!done && got === length) {
      const r = await reader.read();
      done = r.done;
    }
  } finally {
    if (!done) void reader.cancel().catch(() => {});
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
async function fetchFolderFile(file: string, url: string, opts: OptionalFetchOptions, signal: AbortSignal | undefined): Promise<Response | null> {
  try {
    return await fetchOptional(url, opts);
  } catch (e) {
    if (e instanceof HttpStatusError) throw new CheckpointError(`${file}: could not fetch ${url}: HTTP ${e.status} ${e.statusText}`.trim(), { file });
    if (signal?.aborted) throw signal.reason ?? e;
    throw new CheckpointError(`${file}: could not fetch ${url} (${(e as Error).message})`, { file, cause: e });
  }
}

function lastPart(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // a stray "%" is part of the name
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
  const parts = base.split('/').filter(Boolean);
  return {
    label: base + query,
    name: parts.length > 1 ? lastPart(parts[parts.length - 1]!) : null,
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
    async has(file, ro = {}) {
      const url = base + file + query;
      const res = await fetchFolderFile(file, url, { fetch: doFetch, init: { method: 'HEAD', signal: ro.signal } }, ro.signal);
      // Consumed (it is empty): an unread response counts as an aborted request in the browser.
      await res?.arrayBuffer().catch(() => {});
      return res !== null;
    },
  };
}

/** A picked or dropped file with its path inside what was picked or dropped (e.g. "m/tokenizer/encoder.json"). */
export interface PathedFile {
  path: string;
  file: Blob;
}

/**
 * Picked files as path + file pairs. A File's webkitRelativePath does not survive postMessage to the worker (only
 * name and bytes are cloned), so the paths are taken on the page, before the files travel.
 */
export function withPaths(files: Iterable<File | PathedFile>): PathedFile[] {
  return [...files].map((f) => {
    if (!(f instanceof Blob)) return f;
    const file = f as File & { webkitRelativePath?: string };
    return { path: file.webkitRelativePath || file.name, file };
  });
}

/**
 * A local model folder: picked with the folder picker, dropped, or picked as loose files. Paths resolve against the
 * folder that holds config.json (folderPaths.ts), so a folder picked with a parent prefix, and its tasks/, circuits/,
 * snippets and tokenizer, read exactly as over a URL; loose files are matched by name.
 */
export function filesSource(files: Iterable<File | PathedFile>): FolderSource {
  const entries = withPaths(files).map((f) => ({ path: f.path, value: f.file }));
  const lookup = folderLookup(entries, 'the chosen files');
  const label = lookup.root ? `the folder ${lookup.root}` : 'the chosen files';
  return {
    label,
    name: lookup.name,
    async read(file, ro) {
      const blob = lookup.find(file);
      if (!blob) return null;
      if (typeof blob.stream !== 'function') return new Uint8Array(await blob.arrayBuffer());
      return readStreamWithProgress(blob.stream() as ReadableStream<Uint8Array>, blob.size, file, ro);
    },
    async readHead(file, length) {
      const blob = lookup.find(file);
      if (!blob) return null;
      return { bytes: new Uint8Array(await blob.slice(0, length).arrayBuffer()), totalBytes: blob.size };
    },
    async has(file) {
      return lookup.find(file) !== null;
    },
  };
}

/** In-memory files (tests, Node tools): path -> bytes or text, resolved like a picked folder. */
export function mapSource(
  files: ReadonlyMap<string, Uint8Array | ArrayBuffer | string> | Record<string, Uint8Array | ArrayBuffer | string>,
  label = 'the in-memory folder',
): FolderSource {
  const pairs = files instanceof Map ? [...files.entries()] : Object.entries(files);
  const lookup = folderLookup(pairs.map(([path, v]) => ({
    path,
    value: typeof v === 'string' ? new TextEncoder().encode(v) : v instanceof Uint8Array ? v : new Uint8Array(v),
  })), label);
  return {
    label,
    name: lookup.name,
    async read(file, ro) {
      ro.signal?.throwIfAborted();
      const bytes = lookup.find(file);
      if (bytes) ro.onProgress?.({ stage: ro.stage, file, loadedBytes: bytes.length, totalBytes: bytes.length });
      return bytes;
    },
    async readHead(file, length, ro) {
      ro.signal?.throwIfAborted();
      const bytes = lookup.find(file);
      return bytes ? { bytes: bytes.subarray(0, length), totalBytes: bytes.length } : null;
    },
    async has(file) {
      return lookup.find(file) !== null;
    },
  };
}
