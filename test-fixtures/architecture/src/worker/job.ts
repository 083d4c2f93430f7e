// Violations: production code imports a testing/ folder, and a file outside src/.
import { fakeFolder } from '../model/testing/fakeFolder';
import { x } from '../../outside';
export type Job = typeof fakeFolder | typeof x;
