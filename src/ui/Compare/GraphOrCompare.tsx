import { useExplorerStore } from '../../state/explorerStore';
import { CoreCircuitGraph } from '../Importance/CoreCircuitGraph';
import { CompareView } from './CompareView';

/** The centre of the page: the loaded model's circuit graph (its core view, when on), or the compare view while a
 *  second model is chosen. */
export function GraphOrCompare() {
  const compare = useExplorerStore((s) => s.compare);
  return compare ? <CompareView /> : <CoreCircuitGraph />;
}
