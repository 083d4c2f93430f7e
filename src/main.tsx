import './model/zodNoEval'; // first: before any module builds a zod schema (CSP: no eval)
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import './ui/theme.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// Production builds register the service worker (src/sw/sw.js, built to sw.js) so the app works offline after its first
// load. Dev servers don't: their unhashed modules would be cached stale.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  const base = import.meta.env.BASE_URL;
  window.addEventListener('load', () => {
    navigator.serviceWorker.register(`${base}sw.js`, { scope: base }).catch((e: unknown) => {
      console.warn('service worker registration failed', e);
    });
  });
}
