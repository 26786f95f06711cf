// The CLI runs as one file: loading its modules one by one (typebox alone is
// 266) took 250 ms of every command. The daemon's kernel and plugins stay
// packages of their own, loaded only by `codepiper daemon`.
export default {
  input: 'dist/main.js',
  platform: 'node',
  // ws's optional native speed-ups are looked for at run time, in a try.
  external: [/^@codepiper\/(core|plugin-)/, 'bufferutil', 'utf-8-validate'],
  output: { dir: 'dist', format: 'esm', entryFileNames: 'codepiper.mjs', chunkFileNames: 'codepiper-[name].mjs' },
};
