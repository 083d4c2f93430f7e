import { useEffect } from 'react';
import { isBackendName } from '../model/backends/types';
import { fetchModelIndex, loadModel, modelsBaseUrl, startEngine } from '../state/actions';
import { useAppStore } from '../state/appStore';
import { EngineClient } from '../worker/engineClient';
import { LoadStatus } from './LoadStatus/LoadStatus';
import { ModelBar } from './ModelBar/ModelBar';
import { ModelInfo } from './ModelBar/ModelInfo';
import { Predictions } from './Predictions/Predictions';
import { PromptPanel } from './PromptPanel/PromptPanel';

let started = false;

/** Starts the engine once, then loads the model named in ?model= or the index's default. */
async function boot(): Promise<void> {
  if (started) return;
  started = true;
  const params = new URLSearchParams(location.search);
  const pinned = params.get('backend');
  await startEngine(EngineClient.create(), isBackendName(pinned) ? pinned : null);
  try {
    const models = await fetchModelIndex();
    const wanted = params.get('model');
    const pick = models.find((m) => m.id === wanted) ?? models.find((m) => m.default) ?? models[0];
    if (pick) await loadModel({ kind: 'url', baseUrl: `${modelsBaseUrl()}${pick.id}/`, id: pick.id }, pick.name);
  } catch (e) {
    useAppStore.setState({ error: (e as Error).message });
  }
}

export function App() {
  const error = useAppStore((s) => s.error);
  const notices = useAppStore((s) => s.backend?.notices ?? []);
  const backendError = useAppStore((s) => s.backendError);
  const warnings = useAppStore((s) => s.model?.warnings ?? []);
  useEffect(() => void boot(), []);
  return (
    <div className="app">
      <ModelBar />
      <div>
        <LoadStatus />
        {backendError && <div className="error" role="alert">No compute backend could start: {backendError}</div>}
        {notices.map((n) => <div key={n} className="notice" data-testid="backend-notice">{n}</div>)}
        {warnings.map((w) => <div key={w} className="notice">{w}</div>)}
        {error && <div className="error" role="alert" data-testid="error">{error}</div>}
      </div>
      <main className="main">
        <PromptPanel />
        <div style={{ display: 'grid', gap: 16, alignContent: 'start' }}>
          <Predictions />
          <ModelInfo />
        </div>
      </main>
    </div>
  );
}
