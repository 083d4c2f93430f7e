import { CheckpointError } from '../errors';
import { unpickle } from './pickleVm';
import { torchPickleHooks } from './tensorRebuild';
import { isZip, readZipEntries } from './zipEntries';

/**
 * Reads a PyTorch `.pt` file written by torch.save (the zip format of torch >= 1.6: `<archive>/data.pkl`, the pickle,
 * and `<archive>/data/<key>`, one entry per storage) into plain values: Map for dicts, TorchTensor for tensors.
 * The pickle goes through pickleVm.ts with the state-dict allow-list of tensorRebuild.ts, so nothing in the file
 * can run. A file that is not a checkpoint at all (empty, an HTML page, random bytes) is named as such, as
 * train/openai_import/safe_load.py does.
 */

/** Why the bytes cannot be a torch.save zip, from their size and first bytes; null when they may be one. */
export function torchHeaderProblem(bytes: Uint8Array): string | null {
  if (bytes.length === 0) return '0 bytes (an empty file; an interrupted or failed download?)';
  if (isZip(bytes)) return null;
  const head = bytes.subarray(0, 16);
  if (head.length >= 2 && head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5) {
    return 'a pickle stream: the legacy torch.save format (before torch 1.6), which is not read here; save it again with torch.save under torch >= 1.6';
  }
  const shown = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ') + (bytes.length > 8 ? ' ...' : '');
  const isText = head.every((b) => (b >= 32 && b < 127) || b === 9 || b === 10 || b === 13);
  const text = isText ? `, which read as text ${JSON.stringify(String.fromCharCode(...head))}` : '';
  return `no zip or pickle header: first bytes ${shown} (${bytes.length} bytes)${text}`;
}

/** `what` says what the file should be, e.g. "the checkpoint" (messages: "expected the checkpoint, saved by torch.save"). */
export function readTorchFile(bytes: Uint8Array, fileName: string, what = 'a PyTorch checkpoint'): unknown {
  const problem = torchHeaderProblem(bytes);
  if (problem) {
    throw new CheckpointError(`${fileName}: not a PyTorch checkpoint: ${problem} (expected ${what}, saved by torch.save)`, { file: fileName });
  }
  const zip = readZipEntries(bytes, fileName);
  const pickles = zip.names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    throw new CheckpointError(
      `${fileName}: not a torch.save file: a zip ${pickles.length === 0 ? 'without an <archive>/data.pkl entry' : `with ${pickles.length} data.pkl entries`}` +
        ` (entries: ${zip.names.slice(0, 6).join(', ')}${zip.names.length > 6 ? ', ...' : ''})`,
      { file: fileName },
    );
  }
  const prefix = pickles[0]!.slice(0, -'data.pkl'.length);
  const order = zip.read(`${prefix}byteorder`);
  const byteorder = order ? new TextDecoder().decode(order).trim() : 'little';
  if (byteorder !== 'little' && byteorder !== 'big') {
    throw new CheckpointError(`${fileName}: ${prefix}byteorder says ${JSON.stringify(byteorder.slice(0, 20))}, expected little or big`, { file: fileName });
  }
  const hooks = torchPickleHooks({ fileName, littleEndian: byteorder === 'little', storageBytes: (key) => zip.read(`${prefix}data/${key}`) });
  return unpickle(zip.read(pickles[0]!)!, { fileName, ...hooks });
}
