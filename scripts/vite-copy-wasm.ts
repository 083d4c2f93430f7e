import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';

/** Copies @tensorflow/tfjs-backend-wasm's .wasm files into public/tfjs-wasm/ before dev or build starts. */
export function copyWasmBinaries(): Plugin {
  return {
    name: 'copy-tfjs-wasm',
    buildStart() {
      const from = join(process.cwd(), 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
      const to = join(process.cwd(), 'public/tfjs-wasm');
      if (!existsSync(from)) throw new Error(`tfjs-backend-wasm not installed: ${from} missing (run npm ci)`);
      mkdirSync(to, { recursive: true });
      for (const f of readdirSync(from)) if (f.endsWith('.wasm')) copyFileSync(join(from, f), join(to, f));
    },
  };
}
