import type { CircuitFile } from '../../circuit/circuitSchema';

/**
 * The part of a circuit the core view draws: the given nodes and only the edges among them (null: the whole circuit).
 * The same object for the same inputs is the caller's concern (memoise): the graph lays out again on a new one.
 */
export function restrictCircuit(circuit: CircuitFile | null, nodes: ReadonlySet<string> | null): CircuitFile | null {
  if (!circuit || !nodes) return circuit;
  return {
    ...circuit,
    nodes: circuit.nodes.filter((n) => nodes.has(`${n.site}:${n.channel}`)),
    edges: circuit.edges.filter((e) => nodes.has(e.source) && nodes.has(e.target)),
  };
}
