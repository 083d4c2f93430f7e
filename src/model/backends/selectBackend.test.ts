import { describe, expect, it } from 'vitest';
import { useBackend } from '../testing/nodeBackends';
import { selectBackend } from './selectBackend';
import type { BackendProbe } from './types';

// In Node only cpu and wasm exist; the browser probes are replaced by fakes describing what Chromium reports.
const noGpu = async (): Promise<BackendProbe> => ({ name: 'webgpu', available: false, detail: 'requestAdapter() returned null' });
const swiftShader = async (): Promise<BackendProbe> => ({ name: 'webgpu', available: true, fallbackAdapter: true, detail: 'software fallback adapter (google / swiftshader): no real GPU' });
const noGl = (): BackendProbe => ({ name: 'webgl', available: false, detail: 'WebGL2 context unavailable' });

describe('selectBackend', () => {
  it('measures the available candidates and reports the warm-up time of each', async () => {
    await useBackend('wasm'); // registers the wasm backend in this process
    const choice = await selectBackend({ probeWebGpu: noGpu, probeWebGl: noGl, warmupSize: 64 });
    expect(choice.active).toBe('wasm');
    expect(choice.probes.find((p) => p.name === 'wasm')?.warmupMs).toBeGreaterThan(0);
    expect(choice.probes.find((p) => p.name === 'webgpu')?.detail).toBe('requestAdapter() returned null');
  });

  it('never picks a software WebGPU adapter, and says why', async () => {
    const choice = await selectBackend({ probeWebGpu: swiftShader, probeWebGl: noGl, warmupSize: 64 });
    expect(choice.active).not.toBe('webgpu');
    expect(choice.notices.join('\n')).toContain('webgpu skipped: software fallback adapter');
  });

  it('honours a pinned backend', async () => {
    const choice = await selectBackend({ pinned: 'cpu', probeWebGpu: noGpu, probeWebGl: noGl });
    expect(choice).toMatchObject({ active: 'cpu', reason: 'pinned', notices: [] });
  });

  it('falls back with a notice when the pinned backend cannot start', async () => {
    const choice = await selectBackend({ pinned: 'webgpu', probeWebGpu: noGpu, probeWebGl: noGl, warmupSize: 64 });
    expect(choice.active).toBe('wasm');
    expect(choice.notices[0]).toBe('webgpu is unavailable: requestAdapter() returned null; choosing another backend');
  });

  it('falls back when a backend is detected but fails to initialise', async () => {
    const glClaimsOk = (): BackendProbe => ({ name: 'webgl', available: true, detail: 'fake renderer' });
    const choice = await selectBackend({ pinned: 'webgl', probeWebGpu: noGpu, probeWebGl: glClaimsOk, warmupSize: 64 });
    expect(choice.active).toBe('wasm');
    expect(choice.notices.join('\n')).toMatch(/webgl failed to (start|initialise)/);
  });
});
