import { tf } from '../tfjs';
import type { BackendChoice, BackendName, BackendProbe } from './types';

/**
 * Picks a TF.js backend by capability plus a short measurement, never by assumption: on machines without a
 * real GPU, WebGPU runs on a CPU emulator (SwiftShader) and is ~30x slower than WASM, and for small models
 * even a real GPU can lose to WASM (dispatch overhead). Candidates are measured on a warm-up workload shaped
 * like the model's matmuls and the fastest wins. A `pinned` backend skips measurement; if it (or any
 * candidate) fails to start, the next one is used and a notice says why.
 */
export interface SelectBackendOptions {
  pinned?: BackendName | null;
  /** Width of the warm-up matmul; use the model's d_model when known. */
  warmupSize?: number;
  probeWebGpu?: () => Promise<BackendProbe>;
  probeWebGl?: () => BackendProbe;
}

const PREFERENCE: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export async function probeWebGpu(): Promise<BackendProbe> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return { name: 'webgpu', available: false, detail: 'navigator.gpu is missing' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { name: 'webgpu', available: false, detail: 'requestAdapter() returned null' };
    const info = adapter.info;
    const fallback = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true
      || info?.architecture === 'swiftshader' || /swiftshader/i.test(info?.description ?? '');
    const desc = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' / ') || 'unknown adapter';
    return { name: 'webgpu', available: true, fallbackAdapter: fallback, detail: fallback ? `software fallback adapter (${desc}): no real GPU` : desc };
  } catch (e) {
    return { name: 'webgpu', available: false, detail: `requestAdapter() failed: ${(e as Error).message}` };
  }
}

export function probeWebGl(): BackendProbe {
  if (typeof document === 'undefined' && typeof OffscreenCanvas === 'undefined') {
    return { name: 'webgl', available: false, detail: 'no canvas in this environment' };
  }
  try {
    const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
    const gl = canvas.getContext('webgl2') as WebGL2RenderingContext | null;
    if (!gl) return { name: 'webgl', available: false, detail: 'WebGL2 context unavailable' };
    const dbg = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = dbg ? String(gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL)) : String(gl.getParameter(gl.RENDERER));
    return { name: 'webgl', available: true, detail: renderer };
  } catch (e) {
    return { name: 'webgl', available: false, detail: `WebGL2 probe failed: ${(e as Error).message}` };
  }
}

/** Median ms of a few d×d matmul+reduce round trips, including the async read-back the app also pays. */
async function measure(size: number, runs = 5): Promise<number> {
  const a = tf.randomNormal([size, size]);
  const b = tf.randomNormal([size, size]);
  const times: number[] = [];
  try {
    for (let i = 0; i < runs + 1; i++) {
      const t0 = performance.now();
      const c = tf.tidy(() => tf.sum(tf.matMul(a, b)));
      await c.data();
      c.dispose();
      if (i > 0) times.push(performance.now() - t0); // the first run compiles shaders
    }
  } finally {
    a.dispose();
    b.dispose();
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}

async function tryStart(name: BackendName): Promise<string | null> {
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return `${name} failed to initialise`;
    await tf.ready();
    return null;
  } catch (e) {
    return `${name} failed to start: ${(e as Error).message}`;
  }
}

export async function selectBackend(opts: SelectBackendOptions = {}): Promise<BackendChoice> {
  const size = opts.warmupSize ?? 256;
  const notices: string[] = [];
  const gpuProbe = await (opts.probeWebGpu ?? probeWebGpu)();
  const glProbe = (opts.probeWebGl ?? probeWebGl)();
  const probes: BackendProbe[] = [
    gpuProbe,
    glProbe,
    { name: 'wasm', available: typeof WebAssembly !== 'undefined', detail: typeof WebAssembly !== 'undefined' ? 'WebAssembly (SIMD when supported)' : 'WebAssembly missing' },
    { name: 'cpu', available: true, detail: 'plain JavaScript' },
  ];
  const byName = new Map(probes.map((p) => [p.name, p]));

  if (opts.pinned) {
    const err = byName.get(opts.pinned)?.available === false
      ? `${opts.pinned} is unavailable: ${byName.get(opts.pinned)!.detail}`
      : await tryStart(opts.pinned);
    if (!err) return { active: opts.pinned, reason: 'pinned', probes, notices };
    notices.push(`${err}; choosing another backend`);
  }

  // A software WebGPU adapter is never worth measuring: it is the slowest option by an order of magnitude.
  const candidates = PREFERENCE.filter((n) => {
    const p = byName.get(n)!;
    return p.available && !(n === 'webgpu' && p.fallbackAdapter) && n !== 'cpu' && n !== opts.pinned;
  });
  if (gpuProbe.available && gpuProbe.fallbackAdapter) notices.push(`webgpu skipped: ${gpuProbe.detail}`);

  let best: { name: BackendName; ms: number } | null = null;
  for (const name of candidates) {
    const err = await tryStart(name);
    if (err) {
      notices.push(err);
      byName.get(name)!.available = false;
      byName.get(name)!.detail = err;
      continue;
    }
    const ms = await measure(size);
    byName.get(name)!.warmupMs = ms;
    if (!best || ms < best.ms) best = { name, ms };
  }
  if (best) {
    const err = await tryStart(best.name);
    if (!err) return { active: best.name, reason: candidates.length > 1 ? 'measured' : 'only-option', probes, notices };
    notices.push(err);
  }
  const err = await tryStart('cpu');
  if (err) throw new Error(`no TF.js backend could start (${notices.concat(err).join('; ')})`);
  notices.push('using the plain JavaScript cpu backend (slow)');
  return { active: 'cpu', reason: 'only-option', probes, notices };
}
