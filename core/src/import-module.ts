/**
 * Imports an ES module (a plugin's file) at run time. A module of its own,
 * with nothing it depends on: the CLI's bundle keeps it in a chunk apart
 * (cli/rolldown.config.mjs), which the compile cache leaves to Node.
 */
export const importModule = (url: string): Promise<unknown> => import(url);
