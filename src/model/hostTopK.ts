/**
 * Where AbsTopK runs in plain JS (absTopKRows.ts): on the backends whose tensors live in host memory (cpu, wasm).
 * TF.js's topk + scatterND build of the keep-mask (absTopK.ts) costs several times as much there, and AbsTopK runs at
 * up to eight locations of every layer at every position: on wasm it was the largest part of a forward pass.
 */

import { hostResidentBackend } from './hostRows';

let enabled = true;

/** Measurements only (scripts/measure-task-eval.ts): off, TF.js's topk runs in its place, to time what this buys. */
export function setHostTopK(on: boolean): void {
  enabled = on;
}

/** Whether AbsTopK runs here: on backends where reading a tensor synchronously is a copy from host memory. */
export function hostTopKOn(backend: string): boolean {
  return enabled && hostResidentBackend(backend);
}
