// Node-only: registers and activates a TF.js backend for tests and CLIs. The browser registers its
// backends in src/model/backends; this module must never be imported by app code (it uses node: modules).
import { createRequire } from 'node:module';
import path from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../tfjs';

export type NodeBackendName = 'cpu' | 'wasm';

/** Directory holding the tfjs-backend-wasm .wasm binaries. In Node the Emscripten loader reads them with
 *  fs, so a plain absolute path (with trailing slash) works; a file:// URL does not. */
function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

let wasmPathsSet = false;

/** Registers (if needed) and activates `name`; resolves once the backend is ready. */
export async function useBackend(name: NodeBackendName): Promise<void> {
  // IS_TEST turns on TF.js's per-kernel memory-leak checks and silences its "install tfjs-node" banner.
  tf.env().set('IS_TEST', true);
  if (name === 'wasm' && !wasmPathsSet) {
    setWasmPaths(wasmDir());
    wasmPathsSet = true;
  }
  if (!(await tf.setBackend(name))) throw new Error(`TF.js backend "${name}" failed to initialise`);
  await tf.ready();
}
