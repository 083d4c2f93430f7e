import type { CircuitFile } from '../circuit/circuitSchema';
import type { AblationMode, Intervention } from '../model/interventions';
import type { Variant } from '../worker/protocol';
import type { ViewMode } from './explorerStore';

/** Node ids of a circuit, `site:channel`. */
export function circuitNodeIds(c: CircuitFile): string[] {
  return c.nodes.map((n) => `${n.site}:${n.channel}`);
}

/** "Restrict to circuit" as an intervention: every node outside the circuit ablated with the global mode. */
export function circuitRestriction(c: CircuitFile, mode: AblationMode): Intervention {
  return { kind: 'circuit', nodes: circuitNodeIds(c), mode };
}

/** The model with nothing changed by the user, in the chosen view: the baseline that node changes are shown against. */
export function referenceVariant(view: ViewMode, circuit: CircuitFile | null, mode: AblationMode): Variant {
  if (view === 'circuit' && circuit) {
    return { label: 'circuit', interventions: [circuitRestriction(circuit, mode)] };
  }
  return { label: 'full', interventions: [] };
}

/** The reference plus the user's interventions. */
export function currentVariant(view: ViewMode, circuit: CircuitFile | null, mode: AblationMode, iv: readonly Intervention[]): Variant {
  const ref = referenceVariant(view, circuit, mode);
  return { ...ref, label: 'current', interventions: [...ref.interventions, ...iv] };
}

/** Full model, circuit (when there is one) and current: the three columns every comparison shows. */
export function comparisonVariants(view: ViewMode, circuit: CircuitFile | null, mode: AblationMode, iv: readonly Intervention[]): Variant[] {
  const out: Variant[] = [referenceVariant('full', null, mode)];
  if (circuit) out.push(referenceVariant('circuit', circuit, mode));
  out.push(currentVariant(view, circuit, mode, iv));
  return out;
}
