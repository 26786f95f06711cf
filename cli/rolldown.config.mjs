// The CLI and the daemon run as one bundled program: loading their modules
// one by one (typebox alone is 266 files, the daemon about 1,000) took most of
// every start. Each command group and the daemon are chunks of their own,
// loaded when used. scripts/pack makes the npm package with this same config.
//
// CommonJS, though the sources are ES modules: Node 20's ES module loader
// compiled the daemon's chunks in ~100 ms more than `require` does, and took
// ~18 ms more of every `codepiper ls` (bench/src/startup.ts).

import path from 'node:path';

/**
 * Left as packages, dependencies of the CLI: they find files beside
 * themselves at run time (sqlite3 its native addon, web-tree-sitter its wasm;
 * tree-sitter-bash is only such a file, found by the policies plugin).
 */
export const RUNTIME_PACKAGES = ['sqlite3', 'web-tree-sitter', 'tree-sitter-bash'];

/** Where the build lists the files whose code it put into the chunks: scripts/pack.mjs names the npm packages among them, with their licenses. */
export const BUNDLED_MODULES = 'dist/bundled-modules.json';

const listBundledModules = {
  name: 'list-bundled-modules',
  generateBundle(_options, bundle) {
    const ids = Object.values(bundle).flatMap((output) =>
      output.type === 'chunk' ? Object.entries(output.modules).flatMap(([id, module]) => (module.renderedLength > 0 ? [id] : [])) : [],
    );
    this.emitFile({ type: 'asset', fileName: path.basename(BUNDLED_MODULES), source: `${JSON.stringify([...new Set(ids)].sort(), null, 1)}\n` });
  },
};

/**
 * What a client command loads whatever it does (the program, its output, the API client, the schemas and the sessions
 * contract under them) and the session commands, the most used: one chunk. Left to the bundler they were thirteen
 * small ones, and finding, reading and compiling each separately took ~4 ms more of every `codepiper ls`.
 * Their dependencies stay where the bundler puts them: the version, which a bare `--version` reads, in the entry.
 */
const CLIENT_MODULES = new RegExp(
  `/(${[
    'cli/dist/(args|client|command-line|contributed-commands|errors|field-flags|format|output|program|remotes|commands/sessions)',
    'sdk/dist/(answers|api|client|contributions|daemon|errors|home|hooks|schemas|services)',
    'plugins/sessions/contract/dist/(keys|sessions)',
  ].join('|')})\\.js$|/cac/dist/`,
);

export default {
  input: 'dist/main.js',
  platform: 'node',
  // What the `client` group below needs (it leaves its modules' dependencies to other chunks); the bundler would set
  // it anyway, with a warning on every build.
  preserveEntrySignatures: 'allow-extension',
  plugins: [listBundledModules],
  // ws's optional native speed-ups are looked for at run time, in a try.
  external: [...RUNTIME_PACKAGES, 'bufferutil', 'utf-8-validate'],
  output: {
    dir: 'dist',
    format: 'cjs',
    entryFileNames: 'codepiper.cjs',
    chunkFileNames: 'codepiper-[name].cjs',
    // The code that imports ES modules at run time (plugins from config.yaml), kept apart: the compile cache
    // (src/compile-cache.ts) leaves it to Node, and the daemon's large chunk can then be cached. It depends on
    // nothing of ours: a CommonJS chunk must not be part of a cycle.
    codeSplitting: {
      groups: [
        { name: 'module-loader', test: /core\/dist\/import-module\.js/, includeDependenciesRecursively: true },
        { name: 'client', test: CLIENT_MODULES, includeDependenciesRecursively: false },
      ],
    },
    // V8 keeps a script's source as long as the script lives, as two bytes per character if one character is past
    // Latin-1 (a '→' in a message or a doc comment). Escaped, and without doc comments, the daemon's source takes
    // a quarter of the memory it did.
    charset: 'ascii',
    comments: { legal: true, annotation: false, jsdoc: false },
    // Without indentation and line breaks the chunks are a fifth smaller: reading and decoding the daemon's 1.6 MB
    // took ~15 ms of each start here, and V8 keeps the source in memory. Names are kept, so stack traces still name
    // functions (their positions become columns of long lines). `compress: false` turns off the minifier's dead-code
    // pass too (its default, 'dce-only'); the bundler's tree-shaking has already left out what nothing uses.
    minify: { compress: false, mangle: false, codegen: { removeWhitespace: true } },
  },
};
