// Allowed: circuit imports model and a leaf.
import { forward } from '../model/forward';
import { split } from '../tasks/split';
export const prune = () => [forward, split];
