import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { mapSource, type FolderSource } from '../model/checkpoint/sources';
import { useAppStore } from './appStore';
import { loadTasks } from './explorerActions';
import { useExplorerStore } from './explorerStore';
import { useLiveStore } from './liveStore';

// A model folder with one real task file (no circuit), whose tasks/index.json is held back until the test lets it
// through: the moment a user types while the page is still reading the task list.
const TASK = 'single_double_quote';
const taskJson = readFileSync(join(process.cwd(), 'public/models/sparse-py-2l/tasks', `${TASK}.json`), 'utf8');
function heldFolder(): { folder: FolderSource; release: () => void } {
  const inner = mapSource({ 'm/config.json': '{}', 'm/tasks/index.json': JSON.stringify({ tasks: [TASK] }), [`m/tasks/${TASK}.json`]: taskJson });
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  const folder: FolderSource = {
    ...inner,
    async read(file, ro) {
      if (file === 'tasks/index.json') await held;
      return inner.read(file, ro);
    },
  };
  return { folder, release };
}
const firstPairText = (JSON.parse(taskJson) as { test: { a: { text: string } }[] }).test[0]!.a.text;

describe('loadTasks', () => {
  beforeEach(() => {
    useAppStore.setState({ prompt: 'def greet(name):\n    print("Hello, ', model: null });
    useExplorerStore.setState({ task: null, pair: null });
  });

  it('opens the first task on its first pair when nothing was typed', async () => {
    const { folder, release } = heldFolder();
    useAppStore.setState({ modelFolder: folder });
    const done = loadTasks(null);
    release();
    await done;
    expect(useLiveStore.getState().tasks).toEqual([TASK]);
    expect(useExplorerStore.getState()).toMatchObject({ task: TASK, pair: 0 });
    expect(useAppStore.getState().prompt).toBe(firstPairText);
  });

  it('keeps a prompt typed while the task list was being read', async () => {
    const { folder, release } = heldFolder();
    useAppStore.setState({ modelFolder: folder });
    const done = loadTasks(null);
    useAppStore.setState({ prompt: "print('hello" }); // typed before the task list arrived
    release();
    await done;
    expect(useExplorerStore.getState()).toMatchObject({ task: TASK, pair: null });
    expect(useAppStore.getState().prompt).toBe("print('hello");
  });
});
