// The CLI and the daemon run as one bundled program: loading their modules
// one by one (typebox alone is 266 files, the daemon about 1,000) took most of
// every start. Each command group and the daemon are chunks of their own,
// loaded when used. scripts/pack makes the npm package with this same config.

/**
 * Left as packages, dependencies of the CLI: they find files beside
 * themselves at run time (sqlite3 its native addon, web-tree-sitter its wasm;
 * tree-sitter-bash is only such a file, found by the policies plugin).
 */
export const RUNTIME_PACKAGES = ['sqlite3', 'web-tree-sitter', 'tree-sitter-bash'];

export default {
  input: 'dist/main.js',
  platform: 'node',
  // ws's optional native speed-ups are looked for at run time, in a try.
  external: [...RUNTIME_PACKAGES, 'bufferutil', 'utf-8-validate'],
  output: { dir: 'dist', format: 'esm', entryFileNames: 'codepiper.mjs', chunkFileNames: 'codepiper-[name].mjs' },
};
