// Allowed: test support imports its own room.
import { forward } from '../forward';
export const fakeFolder = { forward };
