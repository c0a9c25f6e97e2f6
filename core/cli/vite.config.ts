import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * The CLI as one flat folder of ES modules (dist/cli): its own code and zod in a few files instead of ~220 modules,
 * which is most of a short command's start-up. The worker and child scripts are entries beside it, because the
 * code that starts them looks for `./<name>.js` next to itself (core/jobs/worker-url.ts). Other packages stay
 * external and load from node_modules as in dist/core.
 */
export default defineConfig({
  build: {
    ssr: true,
    outDir: source('../../dist/cli'),
    emptyOutDir: true,
    minify: false,
    sourcemap: true,
    target: 'node24',
    rollupOptions: {
      input: {
        cairn: source('./cairn.ts'),
        'chunk-writer-worker': source('../chunk-store/chunk-writer-worker.ts'),
        'count-worker': source('../archive/count-worker.ts'),
        'restore-worker': source('../archive/restore-worker.ts'),
        'plan-run-child': source('../scheduler/plan-run-child.ts'),
      },
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
    },
  },
  ssr: { noExternal: ['zod'] },
});
