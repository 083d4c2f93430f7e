// Allowed: a package import in a leaf.
import { Tiktoken } from 'js-tiktoken/lite';
export const tokenize = Tiktoken;
