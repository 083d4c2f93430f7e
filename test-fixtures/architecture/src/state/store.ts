// Allowed: state imports zustand, worker and leaves.
import { create } from 'zustand';
import type { Job } from '../worker/job';
import { tokenize } from '../tokenizer/bpe';
export const useStore = create(() => ({ job: null as Job | null, tokenize }));
