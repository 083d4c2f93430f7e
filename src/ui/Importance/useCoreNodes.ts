import { useMemo } from 'react';
import { coreIds } from '../../circuit/core';
import { useExplorerStore } from '../../state/explorerStore';
import { coreSize } from '../../state/importanceActions';
import { useImportanceStore } from '../../state/importanceStore';

/** The nodes the core view draws (the n most important), or null to draw the whole circuit: the importance panel is
 *  closed, the ranking is not there yet, or the core is the whole circuit. */
export function useCoreNodes(): ReadonlySet<string> | null {
  const open = useImportanceStore((s) => s.open);
  const result = useImportanceStore((s) => s.result);
  const chosen = useExplorerStore((s) => s.core);
  return useMemo(() => {
    if (!open || !result) return null;
    const n = coreSize(result, chosen);
    return n >= result.nodes.length ? null : new Set(coreIds(result.nodes, n));
  }, [open, result, chosen]);
}
