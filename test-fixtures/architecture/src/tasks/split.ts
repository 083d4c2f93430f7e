// Violations: a leaf imports another room, and zustand outside state/.
export { prune } from '../circuit/prune';
import { create } from 'zustand';
export const split = create;
