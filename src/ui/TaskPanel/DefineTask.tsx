import { useState } from 'react';
import { useAppStore } from '../../state/appStore';
import { defineCustomTask } from '../../state/customTaskActions';
import { useCustomTaskStore } from '../../state/customTaskStore';
import { useExplorerStore } from '../../state/explorerStore';
import { encodeCustomTaskSpec, escapeText, isCustomTaskId, MAX_URL_SPEC_CHARS, unescapeText } from '../../tasks/customTask';

const EXAMPLE = [
  'x = "hello || x = \'hello',
  'print("a b c || print(\'a b c',
  'A| name = "world',
  "B| name = 'world",
].join('\n');

/**
 * "Define task": a binary next-token task from the user's own prompts (src/tasks/customTask.ts). It is checked with the
 * loaded model's tokenizer (each target one token, each prompt within the context), split into train and test, added
 * to the task picker as "custom: <name>" and opened, which evaluates the full model on it; Find circuit then works on it.
 */
export function DefineTask() {
  const model = useAppStore((s) => s.model);
  const task = useExplorerStore((s) => s.task);
  const current = useCustomTaskStore((s) => (isCustomTaskId(task) ? s.specs[task] : undefined));
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [targetA, setTargetA] = useState('"');
  const [targetB, setTargetB] = useState("'");
  const [examples, setExamples] = useState(EXAMPLE);
  const [problems, setProblems] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);
  if (!model) return null;

  const onToggle = (isOpen: boolean) => {
    setOpen(isOpen);
    // Opening the form on a user-defined task starts from its definition, so it can be edited and redefined.
    if (isOpen && current) {
      setName(current.name);
      setTargetA(escapeText(current.targets[0]));
      setTargetB(escapeText(current.targets[1]));
      setExamples(current.examples);
    }
  };
  const submit = async () => {
    setBusy(true);
    setProblems(null);
    try {
      const spec = { name: name.trim(), targets: [unescapeText(targetA), unescapeText(targetB)], examples };
      setProblems(await defineCustomTask(spec));
    } finally {
      setBusy(false);
    }
  };
  const tooLong = current ? encodeCustomTaskSpec(current) === null : false;
  return (
    <details className="define-task" data-testid="define-task" open={open} onToggle={(e) => onToggle((e.target as HTMLDetailsElement).open)}>
      <summary>Define task</summary>
      <form onSubmit={(e) => { e.preventDefault(); void submit(); }}>
        <div className="row">
          <label className="small">name <input aria-label="Task name" value={name} placeholder="quotes" pattern="[a-z0-9_]{1,32}" required
            onChange={(e) => setName(e.target.value)} style={{ width: '9em' }} /></label>
          <label className="small">target A <input aria-label="Target A" value={targetA} onChange={(e) => setTargetA(e.target.value)} style={{ width: '5em' }} /></label>
          <label className="small">target B <input aria-label="Target B" value={targetB} onChange={(e) => setTargetB(e.target.value)} style={{ width: '5em' }} /></label>
        </div>
        <label className="small">
          examples, one per line: <code>prompt A || prompt B</code> (a contrast pair), <code>A| prompt</code> or <code>B| prompt</code>;{' '}
          <code>\n</code>, <code>\t</code>, <code>\\</code> are escapes
          <textarea aria-label="Examples" value={examples} rows={6} spellCheck={false} onChange={(e) => setExamples(e.target.value)} />
        </label>
        <p className="muted small">
          Each target must be one token of {model.id}&apos;s tokenizer and each prompt at most {model.blockSize} tokens. With 6 or more pairs a
          fixed 20% is held out for test; with fewer, all pairs are used for both.
        </p>
        <div className="row">
          <button type="submit" disabled={busy}>Define and evaluate</button>
          {busy && <span className="small muted">checking…</span>}
        </div>
      </form>
      {problems && problems.length > 0 && (
        <ul className="error small" role="alert" data-testid="define-task-problems">
          {problems.map((p, i) => <li key={i}>{p}</li>)}
        </ul>
      )}
      {tooLong && (
        <p className="notice small">This task&apos;s definition is longer than a link can carry ({MAX_URL_SPEC_CHARS} characters): share it with Export JSON.</p>
      )}
    </details>
  );
}
