/**
 * Typed arrays in shared memory where the context allows it (SharedArrayBuffer exists only where the page is
 * cross-origin isolated, and always in Node), plain ones elsewhere. The sparse weights are allocated here once, at
 * construction, so that the CSR worker pool (csrPool.ts) reads them in place: never a second copy of the big arrays.
 */
export function canShareMemory(): boolean {
  return typeof SharedArrayBuffer === 'function' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
}

export function sharedInt32(length: number): Int32Array {
  return canShareMemory() ? new Int32Array(new SharedArrayBuffer(length * 4)) : new Int32Array(length);
}

export function sharedFloat32(length: number): Float32Array {
  return canShareMemory() ? new Float32Array(new SharedArrayBuffer(length * 4)) : new Float32Array(length);
}

export function sharedUint8(length: number): Uint8Array {
  return canShareMemory() ? new Uint8Array(new SharedArrayBuffer(length)) : new Uint8Array(length);
}

/** A copy of `a` in shared memory (when it can be). */
export function sharedCopy<T extends Int32Array | Float32Array>(a: T): T {
  const out = (a instanceof Int32Array ? sharedInt32(a.length) : sharedFloat32(a.length)) as T;
  out.set(a);
  return out;
}

export function isShared(a: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer === 'function' && a.buffer instanceof SharedArrayBuffer;
}
