/** The importer's defaults for means from a corpus (--means-windows, --means-window-tokens); in a file of their own so
 *  that the page can show them without loading the runtime (siteMeans.ts runs in the worker). */
export const DEFAULT_MEANS_WINDOWS = 128;
export const DEFAULT_MEANS_WINDOW_TOKENS = 256;
