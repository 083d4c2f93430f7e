import { selectTask } from '../../state/explorerActions';
import { useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
import { useCustomTaskStore } from '../../state/customTaskStore';
import { isCustomTaskId, taskLabel } from '../../tasks/customTask';
import { FullModelWarning } from '../shared/FullModelWarning';
import { CircuitOutcome } from './CircuitOutcome';
import { DefineTask } from './DefineTask';
import { FindCircuit } from './FindCircuit';
import { LossAtK } from './LossAtK';
import { MetricsTable } from './MetricsTable';
import { PairList } from './PairList';

/** Task picker, the task's test pairs, its metrics for full model / circuit / current state, and the loss-at-k curve. */
export function TaskPanel() {
  const tasks = useLiveStore((s) => s.tasks);
  const task = useExplorerStore((s) => s.task);
  const taskFile = useLiveStore((s) => s.taskFile);
  const notice = useLiveStore((s) => s.taskNotice);
  const customSpecs = useCustomTaskStore((s) => s.specs);
  const built = useCustomTaskStore((s) => (isCustomTaskId(task) ? s.built[task] : undefined));
  const custom = Object.keys(customSpecs).filter((t) => !tasks.includes(t));
  const all = [...tasks, ...custom];
  return (
    <section className="panel" aria-label="Task and metrics">
      <h2>Task</h2>
      <label>
        Task{' '}
        <select aria-label="Task" value={task ?? ''} onChange={(e) => { if (e.target.value !== task) void selectTask(e.target.value); }} disabled={!all.length}>
          {!task && <option value="">(none)</option>}
          {all.map((t) => <option key={t} value={t}>{taskLabel(t)}</option>)}
        </select>
      </label>
      {taskFile && <p className="muted small">{taskFile.description} · targets {taskFile.target_tokens.map((t) => JSON.stringify(t)).join(' vs ')}</p>}
      {taskFile && built && built.result.task.task === taskFile.task && (
        <ul className="muted small" data-testid="custom-task-notes">
          {built.result.notes.map((n, i) => <li key={i}>{n}</li>)}
        </ul>
      )}
      {notice && <p className="notice small" data-testid="task-notice">{notice}</p>}
      {taskFile && <FullModelWarning where="task" />}
      <DefineTask />
      <FindCircuit />
      <MetricsTable />
      <CircuitOutcome />
      <LossAtK />
      {taskFile && <PairList />}
    </section>
  );
}
