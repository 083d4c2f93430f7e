import { useRef, useState, type FocusEvent, type FormEvent, type KeyboardEvent } from 'react';
import { chooseTargets, clearChosenTargets, lookupTarget } from '../../state/targetActions';
import { searchVocab, tokenLabel, validTargets } from '../../state/targetTokens';
import { escapeText } from '../../tasks/customTask';

/** One of the two fields: the text as typed and, when it came from the picker or the current choice, its id. */
interface Slot {
  text: string;
  id: number | null;
}

interface Props {
  /** The tokens compared now (shown in the fields to start from). */
  current: [number, number] | null;
  texts: (string | null)[] | null;
  vocabSize: number | null;
  /** The user has chosen tokens (so going back to the task's is offered). */
  chosen: boolean;
}

const NAMES = ['A', 'B'] as const;

/**
 * Lets the user compare any two single tokens on a free prompt: type one (escaped like a task's targets; the engine's
 * tokenizer refuses text that is not exactly one token, naming the pieces) or pick one from the matches of what is
 * typed (a byte token's text is ambiguous, so a pick keeps its id). The parent remounts it when the choice changes.
 */
export function TokenChooser({ current, texts, vocabSize, chosen }: Props) {
  const start = (i: 0 | 1): Slot => (current ? { text: tokenLabel(texts, current[i]), id: current[i] } : { text: '', id: null });
  const [slots, setSlots] = useState<[Slot, Slot]>(() => [start(0), start(1)]);
  const [active, setActive] = useState<0 | 1 | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [working, setWorking] = useState(false);
  const inputs = useRef<(HTMLInputElement | null)[]>([]);
  const list = useRef<HTMLUListElement>(null);
  const set = (i: 0 | 1, s: Slot) => {
    setSlots((old) => (i === 0 ? [s, old[1]] : [old[0], s]));
    setProblem(null);
  };
  const matches = active !== null && texts && slots[active].id === null ? searchVocab(texts, slots[active].text) : [];

  const resolve = async (s: Slot, i: 0 | 1): Promise<number | string> => {
    if (s.id !== null) return s.id;
    const byId = /^#(\d{1,9})$/.exec(s.text);
    if (byId && validTargets([Number(byId[1])], vocabSize)) return Number(byId[1]);
    const r = await lookupTarget(s.text);
    return 'id' in r ? r.id : `${NAMES[i]}: ${r.error}`;
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setWorking(true);
    const [a, b] = await Promise.all([resolve(slots[0], 0), resolve(slots[1], 1)]);
    setWorking(false);
    const errors = [a, b].filter((x): x is string => typeof x === 'string');
    if (errors.length) setProblem(errors.join('; '));
    else if (a === b) setProblem(`A and B are the same token (${JSON.stringify(tokenLabel(texts, a as number))}): choose two different ones`);
    else {
      setActive(null);
      chooseTargets([a as number, b as number]);
    }
  };
  // Keyboard: ArrowDown from a field enters its matches, arrows move between them, Escape goes back to the field.
  const buttons = () => [...(list.current?.querySelectorAll('button') ?? [])];
  const fieldKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowDown' || !buttons().length) return;
    e.preventDefault();
    buttons()[0]!.focus();
  };
  const listKey = (e: KeyboardEvent) => {
    const all = buttons();
    const at = all.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === 'Escape' && active !== null) inputs.current[active]?.focus();
    else if (e.key === 'ArrowDown' || e.key === 'ArrowRight') all[Math.min(at + 1, all.length - 1)]?.focus();
    else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') (at > 0 ? all[at - 1] : active !== null ? inputs.current[active] : null)?.focus();
    else return;
    e.preventDefault();
  };
  const pick = (i: 0 | 1, id: number, text: string) => {
    set(i, { text: escapeText(text), id });
    inputs.current[i]?.focus();
  };
  // The match list closes when the focus leaves the form, not when it moves onto a match.
  const blur = (e: FocusEvent) => {
    if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setActive(null);
  };

  return (
    <form className="token-chooser" aria-label="Choose the two tokens" onSubmit={(e) => void submit(e)} onBlur={blur}>
      {NAMES.map((n, i) => (
        <label key={n}>
          <span className={`swatch tok-${n.toLowerCase()}`} aria-hidden /> {n}{' '}
          <input ref={(el) => { inputs.current[i] = el; }} aria-label={`Token ${n}`} onKeyDown={fieldKey} value={slots[i]!.text} spellCheck={false} autoComplete="off" placeholder={'e.g. " or \\n'}
            aria-invalid={problem?.startsWith(`${n}:`) || undefined}
            onFocus={() => setActive(i as 0 | 1)} onChange={(e) => set(i as 0 | 1, { text: e.target.value, id: null })} />
        </label>
      ))}
      <button type="submit" disabled={working}>Compare</button>
      {chosen && <button type="button" onClick={clearChosenTargets}>Task&apos;s tokens</button>}
      {matches.length > 0 && active !== null && (
        <ul ref={list} className="token-matches" aria-label={`Tokens matching ${NAMES[active]}`} data-testid="token-matches" onKeyDown={listKey}>
          {matches.map((t) => (
            <li key={t.id}>
              <button type="button" title={`token ${t.id}`} onClick={() => pick(active, t.id, t.text)}>
                {/* Quoted, so a leading space or a line break is visible. */}
                {JSON.stringify(t.text)} <span className="muted">#{t.id}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {problem && <p className="target-problem small" role="alert" data-testid="target-problem">{problem}</p>}
    </form>
  );
}
