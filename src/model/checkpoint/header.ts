import { parseSafetensorsHeader, type SafetensorsHeader } from './safetensors';
import type { FolderSource } from './sources';

/** Bytes read first: the whole header of any model of the released sizes (a few KiB), in one request. */
export const HEAD_PROBE_BYTES = 64 * 1024;

export interface WeightsHead {
  header: SafetensorsHeader;
  /** Size of the whole file, when the source reports it. */
  fileBytes: number | null;
}

/**
 * The safetensors header of a folder file, read without downloading the file (FolderSource.readHead: an HTTP Range
 * request, a Blob slice). Null when the source cannot read heads or the file is missing (the full read reports that).
 * A malformed header throws the same CheckpointError the full parse would.
 */
export async function readSafetensorsHead(source: FolderSource, file: string, signal?: AbortSignal): Promise<WeightsHead | null> {
  if (!source.readHead) return null;
  const first = await source.readHead(file, HEAD_PROBE_BYTES, { signal });
  if (!first) return null;
  let bytes = first.bytes;
  if (bytes.length >= 8) {
    const len = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    const need = 8 + Number(len);
    // A longer header (within the parser's limit) needs a second read; a shorter file fails in the parser.
    if (need > bytes.length && len <= 100_000_000n && (first.totalBytes === null || need <= first.totalBytes)) {
      const again = await source.readHead(file, need, { signal });
      if (again) bytes = again.bytes;
    }
  }
  return { header: parseSafetensorsHeader(bytes, file), fileBytes: first.totalBytes };
}
