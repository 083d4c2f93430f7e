export const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export function isBackendName(s: string | null | undefined): s is BackendName {
  return !!s && (BACKEND_NAMES as readonly string[]).includes(s);
}

/** What the probe found about one backend. */
export interface BackendProbe {
  name: BackendName;
  available: boolean;
  /** Why it is unavailable, or a description of the device (e.g. the WebGPU adapter). */
  detail: string;
  /** WebGPU only: the adapter is a software fallback (e.g. SwiftShader), i.e. no real GPU. */
  fallbackAdapter?: boolean;
  /** Median milliseconds of the warm-up workload, when measured. */
  warmupMs?: number;
}

/** The outcome of backend selection, shown in the UI. */
export interface BackendChoice {
  active: BackendName;
  /** How it was chosen: pinned by the user (?backend=), or measured. */
  reason: 'pinned' | 'measured' | 'only-option';
  probes: BackendProbe[];
  /** Visible notices, e.g. "webgpu failed to start (...); fell back to wasm". */
  notices: string[];
}
