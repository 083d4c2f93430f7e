export declare const LARGE_CIRCUIT: { readonly model: string; readonly task: string; readonly path: string };
