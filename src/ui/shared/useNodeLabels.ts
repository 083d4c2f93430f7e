import { useEffect, useState } from 'react';
import type { NodeLabel } from '../../circuit/nodeLabels';
import type { FolderSource } from '../../model/checkpoint/sources';
import { useAppStore } from '../../state/appStore';
import { engineEmbedLookup, loadNodeLabels } from '../../state/nodeLabels';

type Loaded = { folder: FolderSource; model: object; nodes: readonly string[]; labels: ReadonlyMap<string, NodeLabel> };

/**
 * Labels of `nodes` on the loaded model (state/nodeLabels.ts), or null until they are read. A folder whose snippets
 * cannot be read gets no labels: the node panel's snippet list says why. Pass a memoised array: a new one reloads.
 */
export function useNodeLabels(nodes: readonly string[] | null): ReadonlyMap<string, NodeLabel> | null {
  const model = useAppStore((s) => s.model);
  const folder = useAppStore((s) => s.modelFolder);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  useEffect(() => {
    if (!model || !folder || !nodes?.length) return;
    let live = true;
    loadNodeLabels(folder, model, nodes, engineEmbedLookup).then(
      (labels) => live && setLoaded({ folder, model, nodes, labels }),
      () => live && setLoaded({ folder, model, nodes, labels: new Map() }),
    );
    return () => { live = false; };
  }, [folder, model, nodes]);
  return loaded && loaded.folder === folder && loaded.model === model && loaded.nodes === nodes ? loaded.labels : null;
}
