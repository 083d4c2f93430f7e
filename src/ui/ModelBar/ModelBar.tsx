import { useState, type DragEvent } from 'react';
import { loadModel, modelsBaseUrl } from '../../state/actions';
import { useAppStore } from '../../state/appStore';
import { ThemeToggle } from './ThemeToggle';

/** Model picker (shipped models), open-from-files (picker or drop) and open-from-URL, plus the active backend. */
export function ModelBar() {
  const models = useAppStore((s) => s.models);
  const model = useAppStore((s) => s.model);
  const backend = useAppStore((s) => s.backend);
  const [url, setUrl] = useState('');
  const [dragging, setDragging] = useState(false);

  const openFiles = (files: FileList | null) => {
    if (files && files.length > 0) void loadModel({ kind: 'files', files: [...files] }, `${files.length} dropped file(s)`);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    openFiles(e.dataTransfer.files);
  };

  return (
    <header
      className="topbar"
      onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      style={dragging ? { outline: '2px dashed var(--accent)' } : undefined}
    >
      <h1>Sparse Circuit Explorer</h1>
      <label>
        Model{' '}
        <select
          aria-label="Shipped model"
          value={models.some((m) => m.id === model?.id) ? model?.id : ''}
          onChange={(e) => {
            const m = models.find((x) => x.id === e.target.value);
            if (m) void loadModel({ kind: 'url', baseUrl: `${modelsBaseUrl()}${m.id}/`, id: m.id }, m.name);
          }}
        >
          {!models.some((m) => m.id === model?.id) && <option value="">{model ? model.id : '(none)'}</option>}
          {models.map((m) => <option key={m.id} value={m.id}>{m.name} ({m.kind})</option>)}
        </select>
      </label>
      <label className="badge" style={{ cursor: 'pointer' }}>
        Open checkpoint files…
        <input
          type="file"
          multiple
          aria-label="Open checkpoint files"
          style={{ display: 'none' }}
          onChange={(e) => openFiles(e.target.files)}
        />
      </label>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (url.trim()) void loadModel({ kind: 'url', baseUrl: url.trim().replace(/\/?$/, '/') }, url.trim());
        }}
      >
        <input aria-label="Checkpoint folder URL" placeholder="or a model folder URL" value={url} onChange={(e) => setUrl(e.target.value)} />
        <button type="submit">Open</button>
      </form>
      <span className="badge" data-testid="backend" title={backend?.probes.map((p) => `${p.name}: ${p.available ? 'yes' : 'no'} (${p.detail}${p.warmupMs !== undefined ? `, ${p.warmupMs.toFixed(1)} ms` : ''})`).join('\n')}>
        backend: {backend ? `${backend.active} (${backend.reason})` : 'starting…'}
      </span>
      <ThemeToggle />
    </header>
  );
}
