import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import solid from 'vite-plugin-solid';

/** Text files smaller than this gain little from compression. */
const MIN_COMPRESSED_BYTES = 1024;

/**
 * Writes each text file of the build beside its brotli and gzip forms, made
 * once at their best levels; the daemon sends the one a browser accepts.
 */
function precompress(): Plugin {
  return {
    name: 'codepiper-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      for (const name of Object.keys(bundle).filter((file) => /\.(js|css|html|svg|json)$/.test(file))) {
        const file = path.join(options.dir!, name);
        const data = readFileSync(file);
        if (data.length < MIN_COMPRESSED_BYTES) continue;
        writeFileSync(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }));
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
      }
    },
  };
}

// The daemon serves dist/ on its --web listener, beside its API: the app
// routes with the URL's hash, so no page path collides with an API path.
export default defineConfig({
  plugins: [solid(), precompress()],
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1000 },
});
