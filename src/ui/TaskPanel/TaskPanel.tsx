import { selectTask } from '../../state/explorerActions';
import { useExplorerStore } from '../../state/explorerStore';
import { useLiveStore } from '../../state/liveStore';
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
  return (
    <section className="panel" aria-label="Task and metrics">
      <h2>Task</h2>
      <label>
        Task{' '}
        <select aria-label="Task" value={task ?? ''} onChange={(e) => void selectTask(e.target.value)} disabled={!tasks.length}>
          {!task && <option value="">(none)</option>}
          {tasks.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
      </label>
      {taskFile && <p className="muted small">{taskFile.description} · targets {taskFile.target_tokens.map((t) => JSON.stringify(t)).join(' vs ')}</p>}
      {notice && <p className="notice small" data-testid="task-notice">{notice}</p>}
      <FindCircuit />
      <MetricsTable />
      <LossAtK />
      {taskFile && <PairList />}
    </section>
  );
}
