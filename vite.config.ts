import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { CONTENT_SECURITY_POLICY, contentSecurityPolicy } from './scripts/csp.ts';
import { copyWasmBinaries } from './scripts/vite-copy-wasm.ts';
import { serviceWorker } from './scripts/vite-service-worker.ts';

// The TF.js WASM binaries are served from our own origin (public/tfjs-wasm/) so the app works offline; the build also
// writes dist/sw.js (src/sw/sw.js with its precache list), the service worker that keeps it working offline.
// Built pages carry a Content-Security-Policy that forbids eval (scripts/csp.ts); `vite preview` also sends it as a
// header, which is what covers the engine worker (a worker does not inherit a page's <meta> policy).
// Both servers also make the pages cross-origin isolated (COOP + COEP; everything the app loads is same-origin), which
// is what gives them SharedArrayBuffer, hence the sparse kernel's worker pool (src/model/csrPool.ts); the service
// worker adds the same headers to what it serves (src/sw/sw.js).
const CROSS_ORIGIN_ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  plugins: [react(), copyWasmBinaries(), serviceWorker(), contentSecurityPolicy()],
  server: { headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, ...CROSS_ORIGIN_ISOLATION } },
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 4000,
    rollupOptions: { input: { main: 'index.html', bench: 'bench.html', harness: 'harness.html' } },
  },
  worker: { format: 'es' },
});
