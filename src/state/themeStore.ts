import { create } from 'zustand';

export type ThemeChoice = 'auto' | 'light' | 'dark';
const KEY = 'explorer.theme';

function saved(): ThemeChoice {
  const v = typeof localStorage === 'undefined' ? null : localStorage.getItem(KEY);
  return v === 'light' || v === 'dark' ? v : 'auto';
}

/**
 * Light / dark / follow the system. `version` changes whenever the effective colours change (a pick, or the system
 * switching while on auto), so canvas and SVG drawings that bake colours in know when to redraw.
 */
export const useThemeStore = create<{ theme: ThemeChoice; version: number }>(() => ({ theme: saved(), version: 0 }));

function apply(theme: ThemeChoice): void {
  if (theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

export function setTheme(theme: ThemeChoice): void {
  localStorage.setItem(KEY, theme);
  apply(theme);
  useThemeStore.setState((s) => ({ theme, version: s.version + 1 }));
}

export function startTheme(): void {
  apply(useThemeStore.getState().theme);
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    if (useThemeStore.getState().theme === 'auto') useThemeStore.setState((s) => ({ version: s.version + 1 }));
  });
}
