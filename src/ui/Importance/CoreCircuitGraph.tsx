import { CircuitGraph } from '../CircuitGraph/CircuitGraph';
import { useCoreNodes } from './useCoreNodes';

/** The circuit graph, filtered to the core while the core view is on (the importance panel). */
export function CoreCircuitGraph() {
  return <CircuitGraph visibleNodes={useCoreNodes()} />;
}
