import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Plugin, ResolvedConfig } from 'vite';

/**
 * Writes the service worker (src/sw/sw.js) to `<outDir>/sw.js` at the end of a build, with the app shell it precaches
 * (the hashed files under assets/, source maps left out) and a build id that versions its cache. Not used in dev.
 */
export function serviceWorker(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'explorer-service-worker',
    apply: 'build',
    configResolved(c) {
      config = c;
    },
    closeBundle() {
      const outDir = resolve(config.root, config.build.outDir);
      const assetsDir = join(outDir, config.build.assetsDir);
      if (!existsSync(join(outDir, 'index.html'))) return;
      const assets = existsSync(assetsDir)
        ? readdirSync(assetsDir)
            .filter((f) => !f.endsWith('.map'))
            .sort()
            .map((f) => `${config.build.assetsDir}/${f}`)
        : [];
      const hash = createHash('sha256');
      hash.update(readFileSync(join(outDir, 'index.html')));
      for (const a of assets) hash.update(a);
      const buildId = hash.digest('hex').slice(0, 12);
      const template = readFileSync(join(config.root, 'src/sw/sw.js'), 'utf8');
      const source = template
        .replace("'__BUILD_ID__'", JSON.stringify(buildId))
        .replace('/* __PRECACHE__ */ []', JSON.stringify(assets));
      writeFileSync(join(outDir, 'sw.js'), source);
    },
  };
}
