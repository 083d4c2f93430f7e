import { setCompare } from '../../state/compareRunner';
import { useAppStore } from '../../state/appStore';
import { useExplorerStore } from '../../state/explorerStore';

/** Turns the compare view on with a second shipped model (the loaded one's twin first), or off. */
export function CompareSelect() {
  const models = useAppStore((s) => s.models);
  const loaded = useAppStore((s) => s.model?.id);
  const compare = useExplorerStore((s) => s.compare);
  const others = models.filter((m) => m.id !== loaded);
  if (!others.length && !compare) return null;
  return (
    <label className="compare-select small">
      compare with{' '}
      <select aria-label="Compare with model" value={compare ?? ''} onChange={(e) => setCompare(e.target.value || null)}>
        <option value="">(off)</option>
        {compare && !others.some((m) => m.id === compare) && <option value={compare}>{compare}</option>}
        {others.map((m) => <option key={m.id} value={m.id}>{m.name} ({m.kind})</option>)}
      </select>
    </label>
  );
}
