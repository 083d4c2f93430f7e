/**
 * Resolves on a later macrotask. On the WASM and CPU backends `tensor.data()` resolves as a microtask, so a job that
 * only awaits readbacks never lets the worker's message events (new requests, cancels) in until it ends; awaiting
 * this between steps lets a cancel arrive and be seen.
 */
export function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
