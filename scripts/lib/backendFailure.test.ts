import { describe, expect, it } from 'vitest';
import { explainBackendFailure, isWasmMemoryFailure } from './backendFailure';

describe('explainBackendFailure', () => {
  it('names memory and the batch size for the WASM runtime failures seen when a batch does not fit', () => {
    for (const m of ['Aborted(). Build with -sASSERTIONS for more info.', 'memory access out of bounds', 'Aborted(OOM)']) {
      expect(isWasmMemoryFailure(m)).toBe(true);
      const out = explainBackendFailure(m);
      expect(out.startsWith(m)).toBe(true);
      expect(out).toMatch(/ran out of memory/);
      expect(out).toMatch(/--batch-pairs/);
    }
  });

  it('leaves every other error as it was', () => {
    for (const m of ['no task "x" for m (have: a, b)', '--ablation must be mean or zero', 'checkpoint truncated']) {
      expect(isWasmMemoryFailure(m)).toBe(false);
      expect(explainBackendFailure(m)).toBe(m);
    }
  });
});
