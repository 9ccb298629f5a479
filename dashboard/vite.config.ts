/**
 * Builds the dashboard into dist/dashboard/ (docs/architecture.md#dashboard): hashed files
 * under assets/, index.html, and routes.json, the page paths the daemon answers with
 * index.html. `scripts/build-dashboard.js` runs it from `npm run build`.
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';
import { PAGES } from './src/pages.ts';

const routes: Plugin = {
  name: 'mcp-director-routes',
  generateBundle() {
    this.emitFile({
      type: 'asset',
      fileName: 'routes.json',
      source: JSON.stringify(PAGES.map((page) => page.path)),
    });
  },
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [svelte(), routes],
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // One script and one stylesheet: the daemon serves them from memory, on loopback.
    cssCodeSplit: false,
    modulePreload: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 400,
  },
});
