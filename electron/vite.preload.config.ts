import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The preload runs sandboxed: one CommonJS file, its only import `electron` (provided by Electron). */
export default defineConfig({
  build: {
    outDir: fileURLToPath(new URL('../dist/electron', import.meta.url)),
    emptyOutDir: false,
    minify: false,
    lib: {
      entry: fileURLToPath(new URL('./preload.ts', import.meta.url)),
      formats: ['cjs'],
      fileName: () => 'preload.cjs',
    },
    rollupOptions: { external: ['electron'] },
  },
});
