import { useEffect, useState } from 'react';
import { engineClient } from '../../state/actions';
import { useLiveStore } from '../../state/liveStore';

/**
 * Tensors and bytes the engine holds on its backend, refreshed after each live answer: a leak shows up here as a
 * count that keeps growing while toggling interventions back and forth. Residual streams the task metrics keep for
 * later toggles are counted apart, since their number follows what was evaluated, within a fixed budget.
 */
export function MemoryReadout() {
  const [mem, setMem] = useState<{ numTensors: number; numBytes: number; cachedTensors: number; at: number } | null>(null);
  const detailed = useLiveStore((s) => s.detailed);
  const current = useLiveStore((s) => s.current);
  const refresh = () => {
    const engine = engineClient();
    engine?.request('memory', {}).result.then((m) => setMem({ ...m, at: Date.now() }), () => {});
  };
  useEffect(() => {
    const t = setTimeout(refresh, 300);
    return () => clearTimeout(t);
  }, [detailed, current]);
  return (
    <tr data-testid="memory" data-tensors={mem?.numTensors} data-cached-tensors={mem?.cachedTensors} data-at={mem?.at}>
      <td className="muted">engine memory</td>
      <td>{mem ? `${mem.numTensors} tensors (${mem.cachedTensors} cached for task metrics), ${(mem.numBytes / 1e6).toFixed(1)} MB ` : '– '}<button onClick={refresh} aria-label="Refresh engine memory">↻</button></td>
    </tr>
  );
}
