import { useEffect, type ReactNode } from 'react';
import { useAppStore } from '../state/appStore';
import { useLiveStore } from '../state/liveStore';
import { boot } from './boot';
import { GraphOrCompare } from './Compare/GraphOrCompare';
import { ImportancePanel } from './Importance/ImportancePanel';
import { InterventionsPanel } from './InterventionsPanel/InterventionsPanel';
import { Columns } from './Layout/Columns';
import { LoadStatus } from './LoadStatus/LoadStatus';
import { TargetLogits } from './LogitsPanel/TargetLogits';
import { ModelBar } from './ModelBar/ModelBar';
import { ModelInfo } from './ModelBar/ModelInfo';
import { NodeDetail } from './NodeDetail/NodeDetail';
import { Predictions } from './Predictions/Predictions';
import { PromptPanel } from './PromptPanel/PromptPanel';
import { OfflineNotice } from './shared/OfflineNotice';
import { PanelBoundary } from './shared/PanelBoundary';
import { TaskPanel } from './TaskPanel/TaskPanel';
import './explorer.css';

const B = ({ n, children }: { n: string; children: ReactNode }) => <PanelBoundary name={n}>{children}</PanelBoundary>;

// A selector must return the same value for the same state: a fresh [] per call would re-render forever.
const NONE: readonly string[] = [];

export function App() {
  const error = useAppStore((s) => s.error);
  const notices = useAppStore((s) => s.backend?.notices ?? NONE);
  const backendError = useAppStore((s) => s.backendError);
  const warnings = useAppStore((s) => s.model?.warnings ?? NONE);
  const linkNotices = useLiveStore((s) => s.notices);
  useEffect(() => void boot(), []);
  return (
    <div className="app">
      <ModelBar />
      <div>
        <LoadStatus />
        <OfflineNotice />
        {backendError && <div className="error" role="alert">No compute backend could start: {backendError}</div>}
        {notices.map((n) => <div key={n} className="notice" data-testid="backend-notice">{n}</div>)}
        {warnings.map((w) => <div key={w} className="notice">{w}</div>)}
        {linkNotices.map((n) => <div key={n} className="notice" data-testid="link-notice">{n}</div>)}
        {error && <div className="error" role="alert" data-testid="error">{error}</div>}
      </div>
      <Columns
        left={<><B n="Task"><TaskPanel /></B><B n="Prompt"><PromptPanel /></B><B n="Interventions"><InterventionsPanel /></B></>}
        center={<B n="Circuit"><GraphOrCompare /></B>}
        right={<><B n="Target tokens"><TargetLogits /></B><B n="Importance"><ImportancePanel /></B><B n="Node"><NodeDetail /></B><B n="Next token"><Predictions /></B><B n="Model"><ModelInfo /></B></>}
      />
    </div>
  );
}
