import { useState, type DragEvent } from 'react';
import { loadModel, modelsBaseUrl } from '../../state/actions';
import { useAppStore } from '../../state/appStore';
import { openLocalFiles } from '../../state/releaseActions';
import { collectDropped, dropRoots } from './dropFolder';
import { SaveConvertedFolder } from './SaveConvertedFolder';
import { ThemeToggle } from './ThemeToggle';

/**
 * Model picker (shipped models), open a local model folder (folder picker, loose files, a zipped folder, or drop it on
 * the bar; OpenAI's released files are converted first) and open-from-URL, plus the active backend.
 */
export function ModelBar() {
  const models = useAppStore((s) => s.models);
  const model = useAppStore((s) => s.model);
  const backend = useAppStore((s) => s.backend);
  const [url, setUrl] = useState('');
  const from = useAppStore((s) => s.modelFrom);
  const [dragging, setDragging] = useState(false);

  const pick = (input: HTMLInputElement) => {
    if (input.files && input.files.length > 0) void openLocalFiles([...input.files], 'picked');
    input.value = ''; // picking the same folder again (after editing it) must load it again
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    // The roots must be taken now: the drop's items are unreadable once this handler returns.
    const roots = dropRoots(e.dataTransfer);
    collectDropped(roots).then(
      (files) => (files.length ? openLocalFiles(files, 'dropped') : undefined),
      (err: Error) => useAppStore.setState({ error: `could not read the dropped files: ${err.message}`, errorFrom: 'load' }),
    );
  };
  // A local model is never shown under a shipped model's entry, even when its card reuses the shipped id.
  const shipped = from?.kind === 'url' && models.some((m) => m.id === model?.id);

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
          value={shipped ? model?.id : ''}
          onChange={(e) => {
            const m = models.find((x) => x.id === e.target.value);
            if (m) void loadModel({ kind: 'url', baseUrl: `${modelsBaseUrl()}${m.id}/`, id: m.id }, m.name);
          }}
        >
          {!shipped && <option value="">{!model ? '(none)' : from?.kind === 'url' ? from.name : `${from?.name ?? model.id} (local)`}</option>}
          {models.map((m) => <option key={m.id} value={m.id}>{m.name} ({m.kind})</option>)}
        </select>
      </label>
      <label className="badge" style={{ cursor: 'pointer' }} title="a model folder: config.json, weights, tokenizer/, tasks/, circuits/, …; or drop it on this bar">
        Open folder…
        <input
          type="file"
          ref={(el) => { if (el) el.webkitdirectory = true; }}
          aria-label="Open model folder"
          style={{ display: 'none' }}
          onChange={(e) => pick(e.target)}
        />
      </label>
      <label className="badge" style={{ cursor: 'pointer' }} title="loose files of one model (config.json, model.safetensors, …), a zipped model folder, or OpenAI's released files (final_model.pt, beeg_config.json, encoder.json, vocab.bpe, optionally mean_baseline_pretrain.pt and viz/…/viz_data.pt or viz_data.pkl circuits)">
        files…
        <input type="file" multiple aria-label="Open checkpoint files" style={{ display: 'none' }} onChange={(e) => pick(e.target)} />
      </label>
      <SaveConvertedFolder />
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
