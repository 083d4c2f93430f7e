import { setTheme, useThemeStore, type ThemeChoice } from '../../state/themeStore';

const NEXT: Record<ThemeChoice, ThemeChoice> = { auto: 'light', light: 'dark', dark: 'auto' };

/** Cycles the colour scheme: system, light, dark. */
export function ThemeToggle() {
  const theme = useThemeStore((s) => s.theme);
  return (
    <button onClick={() => setTheme(NEXT[theme])} aria-label={`Colour scheme: ${theme}; switch to ${NEXT[theme]}`} title="colour scheme">
      {theme === 'auto' ? '◐ auto' : theme === 'light' ? '☀ light' : '☾ dark'}
    </button>
  );
}
