/**
 * The largest real circuit there is to draw: the dense twin's node-pruned quote circuit (66,934 edges), shipped before
 * its edge-pruned one replaced it. The graph's scale test (e2e/graph-scale.spec.ts) and its benchmark
 * (benchGraphRedraw.mjs) serve it in place of the shipped file of this model and task.
 */
export const LARGE_CIRCUIT = {
  model: 'dense-py-2l',
  task: 'single_double_quote',
  path: 'test-fixtures/large-circuit/dense-py-2l-single_double_quote.nodes.json',
};
