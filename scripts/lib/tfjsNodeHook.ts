/**
 * Node CLIs only: lets `tsx` (ESM mode) load TF.js core's ES-module build, which src/model/tfjs.ts pulls in for the
 * gradient registrations. tfjs-core's dist/base.js imports './gradients', and dist/ has both gradients.js and a
 * gradients/ folder; tsx's extension resolution picks the folder, which Node's ESM loader refuses. This resolve hook
 * points extensionless relative imports inside tfjs-core's dist/ at the .js file when there is one. Call installTfjsNodeHook() before importing anything that imports TF.js
 * (i.e. import the rest of the CLI dynamically afterwards).
 */
import { register } from 'node:module';

const HOOK = `
import { existsSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? '';
  if (specifier.startsWith('.') && !specifier.endsWith('.js') && parent.includes('/@tensorflow/tfjs-core/dist/')) {
    const file = new URL(specifier + '.js', parent);
    if (existsSync(file)) return next(specifier + '.js', context);
  }
  return next(specifier, context);
}
`;

let installed = false;

export function installTfjsNodeHook(): void {
  if (installed) return;
  register('data:text/javascript,' + encodeURIComponent(HOOK), import.meta.url);
  installed = true;
}
