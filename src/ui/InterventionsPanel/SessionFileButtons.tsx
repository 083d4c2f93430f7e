import { useRef, useState } from 'react';
import { exportSession, importSession } from '../../state/explorerActions';

/** Export the circuit + interventions as JSON, and import such a file (validated; a bad file changes nothing). */
export function SessionFileButtons() {
  const input = useRef<HTMLInputElement>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const save = () => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([exportSession()], { type: 'application/json' }));
    a.download = 'explorer-session.json';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  };
  const load = async (f: File | undefined) => {
    if (!f) return;
    setProblem(await importSession(await f.text()));
    if (input.current) input.current.value = '';
  };
  return (
    <>
      <button onClick={save}>Export JSON</button>
      <button onClick={() => input.current?.click()}>Import JSON</button>
      <input ref={input} type="file" accept="application/json,.json" aria-label="Import session JSON" hidden onChange={(e) => void load(e.target.files?.[0])} />
      {problem && <span className="error small" role="alert">import failed: {problem}</span>}
    </>
  );
}
