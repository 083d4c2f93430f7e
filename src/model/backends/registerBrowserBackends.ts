// Registers every browser backend with TF.js. Kept apart from selectBackend so that Node code (tests, CLIs)
// never imports WebGL/WebGPU modules.
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../tfjs';

/** The .wasm binaries are served from our own origin (copied by vite-copy-wasm), never from a CDN. */
export function registerBrowserBackends(baseUrl: string): void {
  // A cross-origin isolated page (vite.config.ts) would otherwise get TF.js's threaded WASM build, which hung under
  // the minified build; the sparse kernel has its own worker pool instead (src/model/csrPool.ts).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const prefix = `${baseUrl.replace(/\/?$/, '/')}tfjs-wasm/`;
  setWasmPaths({
    'tfjs-backend-wasm.wasm': `${prefix}tfjs-backend-wasm.wasm`,
    'tfjs-backend-wasm-simd.wasm': `${prefix}tfjs-backend-wasm-simd.wasm`,
    'tfjs-backend-wasm-threaded-simd.wasm': `${prefix}tfjs-backend-wasm-threaded-simd.wasm`,
  });
}
