// Allowed: an entry imports React and the page.
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
export { createRoot, App };
