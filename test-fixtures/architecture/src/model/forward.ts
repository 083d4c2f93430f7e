// Violations: model imports a room to its left (dynamically, too) and d3.
import { prune } from '../circuit/prune';
import { line } from 'd3-shape';
export const forward = () => [prune, line, import('../ui/App')];
