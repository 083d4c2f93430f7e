// Violation: a folder that is not in the room table.
import { z } from 'zod';
export const helper = z;
