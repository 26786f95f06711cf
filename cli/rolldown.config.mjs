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
  output: {
    dir: 'dist',
    format: 'esm',
    entryFileNames: 'codepiper.mjs',
    chunkFileNames: 'codepiper-[name].mjs',
    // V8 keeps a script's source as long as the script lives, as two bytes per character if one character is past
    // Latin-1 (a '→' in a message or a doc comment). Escaped, and without doc comments, the daemon's source takes
    // a quarter of the memory it did.
    charset: 'ascii',
    comments: { legal: true, annotation: false, jsdoc: false },
  },
};
