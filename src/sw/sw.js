/* Service worker of the explorer: the app keeps working offline after its first load.
 * Built by scripts/vite-service-worker.ts into dist/sw.js, which fills in BUILD_ID and PRECACHE (the app shell:
 * index.html, the favicon and the hashed files under assets/). Plain JS on purpose: no dependency, no bundling.
 *
 * - install: precaches the shell, /models/index.json, the default model's folder files and the TF.js WASM binaries
 *   (the first page load is not controlled yet, so files its engine worker fetched would otherwise be missing offline).
 * - fetch (same-origin GET only): network-first for navigations and JSON index files, falling back to the cache;
 *   cache-first for hashed assets/, tfjs-wasm/*.wasm and model files under models/<id>/, cached on first use.
 *   A missing model file is never answered with index.html: the loader treats HTML as "no such file".
 * - activate: deletes caches of older builds and takes control of open pages at once.
 * - Pages and scripts it answers carry COOP + COEP (added when the host or the cached copy lacks them): offline, too,
 *   the page stays cross-origin isolated, which the sparse kernel's worker pool needs (SharedArrayBuffer).
 */
const BUILD_ID = '__BUILD_ID__';
const PRECACHE = /* __PRECACHE__ */ [];
const CACHE = `sparse-circuit-explorer-${BUILD_ID}`;
const CACHE_PREFIX = 'sparse-circuit-explorer-';
/** Files of a model folder that the loader reads (src/model/checkpoint/sources.ts FOLDER_FILES). */
const MODEL_FILES = ['config.json', 'model.safetensors', 'means.safetensors', 'tokenizer/encoder.json', 'tokenizer/vocab.bpe', 'model-card.json'];
const WASM_FILES = ['tfjs-wasm/tfjs-backend-wasm.wasm', 'tfjs-wasm/tfjs-backend-wasm-simd.wasm', 'tfjs-wasm/tfjs-backend-wasm-threaded-simd.wasm'];

const scope = () => new URL(self.registration.scope);
const abs = (path) => new URL(path, scope()).href;
// Match by URL alone: servers may answer `Vary: Origin`, and module scripts are requested with an Origin header that
// the precache requests lacked.
const MATCH = { ignoreVary: true };

const CROSS_ORIGIN_ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** `res` with the cross-origin isolation headers (a new Response: a fetched or cached one's headers are immutable). */
function isolated(res) {
  if (res.type === 'opaque' || res.type === 'opaqueredirect' || res.status === 0) return res;
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(CROSS_ORIGIN_ISOLATION)) if (!headers.has(k)) headers.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

/** Responses that decide a context's isolation: documents and worker scripts. */
const decidesIsolation = (request) => request.mode === 'navigate' || request.destination === 'worker' || request.destination === 'script';

function isHtml(res) {
  return (res.headers.get('content-type') || '').startsWith('text/html');
}

/** Stores a response if it is a complete, non-HTML (i.e. not an SPA fallback page) success. */
async function put(cache, request, res) {
  if (res.ok && res.status === 200 && !isHtml(res)) await cache.put(request, res.clone());
}

async function precacheOptional(cache, paths) {
  await Promise.all(
    paths.map(async (p) => {
      try {
        const res = await fetch(abs(p), { cache: 'no-cache' });
        await put(cache, abs(p), res);
      } catch {
        /* optional: cached on first use instead */
      }
    }),
  );
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(['index.html', 'favicon.svg', ...PRECACHE].map(abs));
      const optional = [...WASM_FILES];
      try {
        const res = await fetch(abs('models/index.json'), { cache: 'no-cache' });
        if (res.ok && !isHtml(res)) {
          await cache.put(abs('models/index.json'), res.clone());
          const index = await res.json();
          const models = Array.isArray(index.models) ? index.models : [];
          const pick = models.find((m) => m && m.default) || models[0];
          if (pick && typeof pick.id === 'string') optional.push(...MODEL_FILES.map((f) => `models/${pick.id}/${f}`));
        }
      } catch {
        /* offline during install: the shell is enough */
      }
      await precacheOptional(cache, optional);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
      await self.clients.claim();
    })(),
  );
});

/** Network first, storing what comes back under `key`; the cached copy (or `fallbackKey`'s) when the network fails. */
async function networkFirst(request, key, fallbackKey) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(request);
    if (request.mode === 'navigate') {
      if (res.ok && res.status === 200 && isHtml(res)) await cache.put(key, res.clone());
    } else {
      await put(cache, key, res);
    }
    return res;
  } catch (e) {
    const hit = (await cache.match(key, MATCH)) || (fallbackKey && (await cache.match(fallbackKey, MATCH)));
    if (hit) return hit;
    throw e;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request, MATCH);
  if (hit) return hit;
  const res = await fetch(request);
  await put(cache, request, res);
  return res;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const base = scope().pathname;
  if (!url.pathname.startsWith(base)) return;
  const path = url.pathname.slice(base.length);
  if (request.mode === 'navigate') {
    // The app's page is kept as index.html (whatever its query string); other pages (bench, harness) as themselves.
    const isApp = path === '' || path === 'index.html';
    const key = isApp ? abs('index.html') : url.origin + url.pathname;
    event.respondWith(networkFirst(request, key, null).then(isolated));
  } else if (path === 'favicon.svg' || path.startsWith('assets/') || (path.startsWith('tfjs-wasm/') && path.endsWith('.wasm')) || /^models\/[^/]+\/./.test(path)) {
    event.respondWith(decidesIsolation(request) ? cacheFirst(request).then(isolated) : cacheFirst(request));
  } else if (path.endsWith('.json')) {
    // models/index.json and other index files: fresh when online.
    event.respondWith(networkFirst(request, request, null));
  }
});
