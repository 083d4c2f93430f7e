/**
 * A checkpoint folder could not be read or does not match docs/model-folder.md.
 * Messages name the file (and tensor, where there is one) and the problem, so they can be shown to the user as is.
 */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  readonly file: string | undefined;
  readonly tensor: string | undefined;

  constructor(message: string, opts: { file?: string; tensor?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.file = opts.file;
    this.tensor = opts.tensor;
  }
}

/** Human-readable byte count, e.g. "1.50 GiB (1610612736 bytes)". */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(2)} ${units[u]} (${n} bytes)`;
}
