/**
 * Turns the WASM backend's bare failures into a message that names the problem and the way out.
 *
 * When one batch of prompts does not fit the WASM heap, TF.js's WASM backend dies with Emscripten's own words
 * ("Aborted(). Build with -sASSERTIONS for more info." or "memory access out of bounds"), which say nothing about
 * memory or batch size. Measured: node pruning a 4-layer d_model 512 model on 128-token prompts fails so at 16 and 8
 * pairs per step and runs at 4.
 */

const WASM_MEMORY_FAILURE = /^Aborted\(|memory access out of bounds|out of memory|Cannot enlarge memory/i;

/** True when an error message is one of the WASM runtime's signs of an exhausted heap. */
export function isWasmMemoryFailure(message: string): boolean {
  return WASM_MEMORY_FAILURE.test(message);
}

/** The message to print for an error thrown while pruning: unchanged unless it is a WASM heap failure. */
export function explainBackendFailure(message: string): string {
  if (!isWasmMemoryFailure(message)) return message;
  return (
    `${message}\nThe WASM backend most likely ran out of memory: one optimisation step's batch of prompts must fit ` +
    `in its heap. Lower --batch-pairs (a 4-layer d_model 512 model on 128-token prompts needs 4).`
  );
}
