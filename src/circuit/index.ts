/** Circuit discovery (docs/circuits.md): node pruning, edges, evaluation and the circuit file. Pure TF.js + host code:
 *  runs in Node (scripts/prune.ts) and in a browser worker. */
export { circuitFileSchema, circuitNodeSchema, circuitEdgeSchema, type CircuitFile } from './circuitSchema';
export { DEFAULT_PRUNE_CONFIG, pruneTask, learnMasks, topKMask, maskedLogitDiffs, type PruneConfig, type PruneOutcome, type PruneProgress, type PruneHooks, type PrunePhase } from './prune';
export { rankNodes, lrAt, type SizeSearchOutcome } from './maskPruning';
export { buildCircuitFile, circuitNodeIds, lossAtKGrid, type CircuitFileMeta } from './circuitFile';
export { extractEdges, countEdgesByKind, type CircuitEdge, type EdgeKind } from './edges';
export { heavisideST, heavisideSurrogateGrad } from './heaviside';
export { installFastMatMulGrad } from './fastMatMulGrad';
export { NodeLayout, disposeMasks } from './nodeLayout';
export { makeTaskBatch, logitDiffs, taskLossTensor, evalLogitDiffs, type TaskBatch } from './taskBatch';
