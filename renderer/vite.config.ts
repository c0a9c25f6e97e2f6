import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The renderer: built once, served by Electron's app:// protocol and by browser mode alike. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    // No inline scripts or eval: the CSP allows only 'self'.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    // The passphrase strength check's dictionaries (zxcvbn-ts, ~1.2 MB) are a chunk the key wizard loads when it
    // opens; the app's own entry chunk stays under 500 kB (test/build/renderer-bundle.test.ts).
    chunkSizeWarningLimit: 1300,
  },
});
