import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

// The daemon serves dist/ on its --web listener, beside its API: the app
// routes with the URL's hash, so no page path collides with an API path.
export default defineConfig({
  plugins: [solid()],
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1000 },
});
